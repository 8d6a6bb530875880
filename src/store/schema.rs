//! One portable schema for both backends: only types the MultiConnection
//! supports (BigInt, Integer, Text, Bool, Timestamp). Written by hand to match
//! migrations/sqlite and migrations/postgres.

diesel::table! {
    institutions (id) {
        id -> BigInt,
        name -> Text,
        level -> Text,
        region -> Text,
        alliance_member -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    people (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        phone -> Nullable<Text>,
        practising_certificate -> Nullable<Text>,
        institution_id -> Nullable<BigInt>,
        password_hash -> Nullable<Text>,
        active -> Bool,
        locale -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    person_roles (person_id, role) {
        person_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        person_id -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    password_tokens (token_hash) {
        token_hash -> Text,
        person_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        kind -> Text,
        name -> Text,
        person_id -> Nullable<BigInt>,
        scopes -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        to_address -> Text,
        to_name -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        outcome -> Text,
        ip -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::joinable!(people -> institutions (institution_id));
diesel::joinable!(person_roles -> people (person_id));
diesel::joinable!(sessions -> people (person_id));
diesel::joinable!(password_tokens -> people (person_id));

diesel::table! {
    question_banks (id) {
        id -> BigInt,
        bank_key -> Text,
        title -> Text,
        track -> Text,
        language -> Text,
        sample -> Bool,
        file_version -> Integer,
        source -> Text,
        created_at -> Timestamp,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    questions (id) {
        id -> BigInt,
        bank_id -> BigInt,
        question_key -> Text,
        latest_version -> Integer,
        retired_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    question_versions (id) {
        id -> BigInt,
        question_id -> BigInt,
        version -> Integer,
        kind -> Text,
        topic -> Text,
        difficulty -> Integer,
        points -> Integer,
        content -> Text,
        fingerprint -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(questions -> question_banks (bank_id));
diesel::joinable!(question_versions -> questions (question_id));

diesel::table! {
    exams (id) {
        id -> BigInt,
        track -> Text,
        title -> Text,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        duration_minutes -> Integer,
        pass_mark -> Integer,
        attempts_allowed -> Integer,
        waiting_days -> Integer,
        review_policy -> Text,
        blueprint -> Text,
        grace_seconds -> Integer,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        results_released_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    registrations (id) {
        id -> BigInt,
        exam_id -> BigInt,
        person_id -> BigInt,
        extra_minutes -> Integer,
        opens_at -> Nullable<Timestamp>,
        closes_at -> Nullable<Timestamp>,
        registered_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    attempts (id) {
        id -> BigInt,
        exam_id -> BigInt,
        person_id -> BigInt,
        number -> Integer,
        seed -> BigInt,
        drawn_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        deadline -> Nullable<Timestamp>,
        submitted_at -> Nullable<Timestamp>,
        auto_submitted -> Bool,
        objective_score -> Nullable<Double>,
        objective_total -> Nullable<Double>,
    }
}

diesel::table! {
    attempt_items (id) {
        id -> BigInt,
        attempt_id -> BigInt,
        position -> Integer,
        section -> Integer,
        question_id -> BigInt,
        version_id -> BigInt,
        points -> Integer,
        option_order -> Text,
        score -> Nullable<Double>,
    }
}

diesel::table! {
    answers (attempt_item_id) {
        attempt_item_id -> BigInt,
        attempt_id -> BigInt,
        response -> Text,
        seq -> BigInt,
        saved_at -> Timestamp,
    }
}

diesel::table! {
    attempt_events (id) {
        id -> BigInt,
        attempt_id -> BigInt,
        at -> Timestamp,
        kind -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::joinable!(registrations -> exams (exam_id));
diesel::joinable!(attempts -> exams (exam_id));
diesel::joinable!(attempt_items -> attempts (attempt_id));
diesel::joinable!(attempt_items -> question_versions (version_id));
diesel::joinable!(answers -> attempt_items (attempt_item_id));

diesel::allow_tables_to_appear_in_same_query!(
    institutions,
    people,
    person_roles,
    sessions,
    password_tokens,
    api_tokens,
    outbox,
    audit_events,
    question_banks,
    questions,
    question_versions,
    exams,
    registrations,
    attempts,
    attempt_items,
    answers,
    attempt_events,
);
