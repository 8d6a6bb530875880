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
        holder_ref -> Nullable<Text>,
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
        seq -> Nullable<BigInt>,
        prev_hash -> Nullable<Text>,
        hash -> Nullable<Text>,
    }
}

diesel::table! {
    audit_chain (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
        last_event_id -> Nullable<BigInt>,
        before_id -> BigInt,
        started_at -> Timestamp,
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
        purpose -> Text,
        content_hash -> Text,
    }
}

diesel::table! {
    holder_photos (person_id) {
        person_id -> BigInt,
        jpeg -> Binary,
        public -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    topic_names (bank_id, topic, locale) {
        bank_id -> BigInt,
        topic -> Text,
        locale -> Text,
        name -> Text,
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
        marking_tolerance -> Integer,
        marking_days -> Integer,
        appeal_days -> Integer,
        stage -> Text,
        choice_scoring -> Text,
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
        code -> Nullable<Text>,
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
        marked_at -> Nullable<Timestamp>,
        excluded -> Bool,
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
    attempt_papers (attempt_id) {
        attempt_id -> BigInt,
        items -> Text,
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
diesel::joinable!(attempts -> people (person_id));
diesel::joinable!(attempt_items -> attempts (attempt_id));
diesel::joinable!(attempt_items -> question_versions (version_id));
diesel::joinable!(answers -> attempt_items (attempt_item_id));
diesel::joinable!(answers -> attempts (attempt_id));
diesel::joinable!(attempt_papers -> attempts (attempt_id));
diesel::joinable!(attempt_items -> questions (question_id));

diesel::table! {
    tracks (id) {
        id -> BigInt,
        track_key -> Text,
        title -> Text,
        description -> Text,
        validity_months -> Integer,
        renewal_credit_hours -> Double,
        sample -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,        code -> Text,
        stage_attempts -> Integer,
        retake_wait_days -> Integer,
        cooloff_days -> Integer,
        requires_practical -> Bool,
        quorum -> Integer,
        inappropriate_threshold -> Integer,
        flag_min_rated -> Integer,
        appeal_rule -> Text,
        choice_scoring -> Text,
    }
}

diesel::table! {
    courses (id) {
        id -> BigInt,
        course_key -> Text,
        title -> Text,
        summary -> Text,
        language -> Text,
        credit_hours -> Double,
        sample -> Bool,
        published -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    track_courses (track_id, course_id) {
        track_id -> BigInt,
        course_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    course_modules (id) {
        id -> BigInt,
        course_id -> BigInt,
        module_key -> Text,
        position -> Integer,
        title -> Text,
        quiz_topics -> Text,
        quiz_questions -> Integer,
        quiz_pass_percent -> Integer,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    lessons (id) {
        id -> BigInt,
        course_id -> BigInt,
        module_id -> BigInt,
        lesson_key -> Text,
        position -> Integer,
        title -> Text,
        minutes -> Integer,
        video_url -> Nullable<Text>,
        body_markdown -> Text,
        body_html -> Text,
        content_hash -> Text,
        version -> Integer,
        retired_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    course_media (id) {
        id -> BigInt,
        course_id -> BigInt,
        name -> Text,
        content_type -> Text,
        digest -> Text,
        bytes -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    enrolments (id) {
        id -> BigInt,
        person_id -> BigInt,
        track_id -> BigInt,
        enrolled_at -> Timestamp,
        enrolled_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    lesson_progress (person_id, lesson_id) {
        person_id -> BigInt,
        lesson_id -> BigInt,
        version -> Integer,
        studied_at -> Timestamp,
    }
}

diesel::table! {
    quiz_attempts (id) {
        id -> BigInt,
        person_id -> BigInt,
        module_id -> BigInt,
        items -> Text,
        answers -> Nullable<Text>,
        score -> Nullable<Integer>,
        max_score -> Integer,
        passed -> Nullable<Bool>,
        started_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    workshops (id) {
        id -> BigInt,
        track_id -> BigInt,
        workshop_key -> Text,
        title -> Text,
        description -> Text,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    workshop_sessions (id) {
        id -> BigInt,
        workshop_id -> BigInt,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        place -> Text,
        capacity -> Integer,
        instructor_id -> BigInt,
        reminders_sent_at -> Nullable<Timestamp>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    session_signups (id) {
        id -> BigInt,
        session_id -> BigInt,
        person_id -> BigInt,
        status -> Text,
        joined_at -> Timestamp,
        changed_at -> Timestamp,
        attended -> Nullable<Bool>,
        attendance_by -> Nullable<BigInt>,
        attendance_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(track_courses -> tracks (track_id));
diesel::joinable!(track_courses -> courses (course_id));
diesel::joinable!(course_modules -> courses (course_id));
diesel::joinable!(lessons -> course_modules (module_id));
diesel::joinable!(lesson_progress -> lessons (lesson_id));
diesel::joinable!(enrolments -> tracks (track_id));
diesel::joinable!(workshops -> tracks (track_id));
diesel::joinable!(workshop_sessions -> workshops (workshop_id));
diesel::joinable!(session_signups -> workshop_sessions (session_id));
diesel::joinable!(session_signups -> people (person_id));

diesel::table! {
    marking_tasks (id) {
        id -> BigInt,
        exam_id -> BigInt,
        attempt_item_id -> BigInt,
        examiner_id -> BigInt,
        role -> Integer,
        assigned_at -> Timestamp,
        due_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        total -> Nullable<Double>,
        marks -> Nullable<Text>,
        reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    question_reviews (id) {
        id -> BigInt,
        exam_id -> BigInt,
        question_id -> BigInt,
        flags -> Text,
        status -> Text,
        reason -> Nullable<Text>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    appeals (id) {
        id -> BigInt,
        attempt_id -> BigInt,
        attempt_item_id -> BigInt,
        reason -> Text,
        status -> Text,
        mark_before -> Double,
        mark_after -> Nullable<Double>,
        outcome -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        rule -> Nullable<Text>,
        mark_final -> Nullable<Double>,
    }
}

diesel::table! {
    standard_settings (id) {
        id -> BigInt,
        exam_id -> BigInt,
        version -> Integer,
        status -> Text,
        cut_score -> Nullable<Double>,
        approved_by -> Nullable<BigInt>,
        approved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    angoff_ratings (setting_id, rater_id, question_id) {
        setting_id -> BigInt,
        rater_id -> BigInt,
        question_id -> BigInt,
        probability -> Double,
    }
}

diesel::table! {
    practical_stations (id) {
        id -> BigInt,
        track -> Text,
        title -> Text,
        version_id -> BigInt,
        pass_percent -> Integer,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    practical_results (id) {
        id -> BigInt,
        station_id -> BigInt,
        person_id -> BigInt,
        examiner_id -> BigInt,
        marks -> Text,
        total -> Double,
        points -> Integer,
        passed -> Bool,
        observed_at -> Timestamp,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    credentials (id) {
        id -> BigInt,
        number -> Text,
        person_id -> BigInt,
        track_id -> BigInt,
        year -> Integer,
        sequence -> Integer,
        issued_at -> Timestamp,
        valid_from -> Timestamp,
        valid_until -> Timestamp,
        status -> Text,
        status_reason -> Nullable<Text>,
        suspended_until -> Nullable<Timestamp>,
        revocation_index -> Integer,
        suspension_index -> Integer,
        revoke_proposed_by -> Nullable<BigInt>,
        revoke_proposed_reason -> Nullable<Text>,
        reminded_90_at -> Nullable<Timestamp>,
        reminded_30_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    credential_events (id) {
        id -> BigInt,
        credential_id -> BigInt,
        action -> Text,
        status_from -> Nullable<Text>,
        status_to -> Text,
        reason -> Text,
        actor_id -> Nullable<BigInt>,
        at -> Timestamp,
    }
}

diesel::table! {
    cases_due (id) {
        id -> BigInt,
        person_id -> BigInt,
        reason -> Text,
        noted_at -> Timestamp,
    }
}

diesel::table! {
    cases (id) {
        id -> BigInt,
        person_id -> BigInt,
        track_id -> BigInt,
        kind -> Text,
        stage -> Text,
        stage_entered_at -> Timestamp,
        credential_id -> Nullable<BigInt>,
        opened_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    case_transitions (id) {
        id -> BigInt,
        case_id -> BigInt,
        from_stage -> Nullable<Text>,
        to_stage -> Text,
        actor_id -> Nullable<BigInt>,
        reason -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    committee_votes (case_id, member_id) {
        case_id -> BigInt,
        member_id -> BigInt,
        vote -> Text,
        reason -> Text,
        cast_at -> Timestamp,
    }
}

diesel::table! {
    departments (id) {
        id -> BigInt,
        institution_id -> BigInt,
        track_id -> BigInt,
        code -> Text,
        name -> Text,
        clinic_slots_per_day -> Integer,
        beds -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    referrals (id) {
        id -> BigInt,
        number -> Text,
        person_id -> BigInt,
        credential_id -> BigInt,
        department_id -> BigInt,
        patient_name -> Text,
        patient_sex -> Text,
        patient_birth_date -> Date,
        guardian_phone -> Text,
        urgency -> Text,
        reason -> Text,
        diagnosis -> Text,
        findings -> Text,
        slot_date -> Nullable<Date>,
        needs_bed -> Bool,
        status -> Text,
        decline_reason -> Nullable<Text>,
        appropriate -> Nullable<Bool>,
        rating_comment -> Nullable<Text>,
        back_instructions -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        diagnosis_code -> Nullable<Text>,
    }
}

diesel::table! {
    referral_events (id) {
        id -> BigInt,
        referral_id -> BigInt,
        action -> Text,
        actor_id -> Nullable<BigInt>,
        detail -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    community_visits (id) {
        id -> BigInt,
        person_id -> BigInt,
        visit_date -> Date,
        first_visits -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        owner -> Text,
        idem_key -> Text,
        request_hash -> Text,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    throttle_buckets (bucket) {
        bucket -> Text,
        level -> Double,
        at_ms -> BigInt,
        empty_at_ms -> BigInt,
    }
}

diesel::table! {
    job_leases (job) {
        job -> Text,
        holder -> Text,
        held_until -> Timestamp,
    }
}

diesel::table! {
    signing_keys (id) {
        id -> BigInt,
        thumbprint -> Text,
        algorithm -> Text,
        public_key -> Text,
        sealed_private_key -> Nullable<Text>,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
        withdraw_after -> Nullable<Timestamp>,
    }
}

diesel::joinable!(practical_results -> practical_stations (station_id));
diesel::joinable!(marking_tasks -> attempt_items (attempt_item_id));
diesel::joinable!(marking_tasks -> exams (exam_id));

diesel::allow_tables_to_appear_in_same_query!(
    institutions,
    people,
    person_roles,
    sessions,
    password_tokens,
    api_tokens,
    outbox,
    audit_events,
    audit_chain,
    question_banks,
    topic_names,
    holder_photos,
    questions,
    question_versions,
    exams,
    registrations,
    attempts,
    attempt_items,
    answers,
    attempt_events,
    attempt_papers,
    tracks,
    courses,
    track_courses,
    course_modules,
    lessons,
    course_media,
    enrolments,
    lesson_progress,
    quiz_attempts,
    workshops,
    workshop_sessions,
    session_signups,
    marking_tasks,
    question_reviews,
    appeals,
    standard_settings,
    angoff_ratings,
    practical_stations,
    practical_results,
    credentials,
    credential_events,
    cases,
    cases_due,
    case_transitions,
    committee_votes,
    departments,
    referrals,
    referral_events,
    community_visits,
    idempotency_keys,
    throttle_buckets,
    job_leases,
    signing_keys,
);
