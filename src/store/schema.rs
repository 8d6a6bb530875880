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

diesel::allow_tables_to_appear_in_same_query!(
    institutions,
    people,
    person_roles,
    sessions,
    password_tokens,
    api_tokens,
    outbox,
    audit_events,
);
