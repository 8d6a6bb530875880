//! The alliance's institutions and staff, created as an admin would: the
//! tertiary children's hospital with its departments, the districts'
//! maternal and child health hospitals, the community institutions, the
//! examiners, committee, referral desk and instructors; the track's policy
//! set by the committee; the sample courses and banks imported.

use rand_chacha::ChaCha8Rng;

use super::people::{self, DISTRICTS, SignIn};
use crate::domain::access::{Actor, Principal};
use crate::domain::ids::PersonId;
use crate::domain::people::PersonInput;
use crate::error::{Error, Result};
use crate::services::committee::TrackPolicy;
use crate::services::institutions::InstitutionInput;
use crate::services::people::PersonView;
use crate::services::referrals::DepartmentInput;
use crate::services::{Caller, Ctx, accounts, committee, courses, institutions, referrals};
use crate::store::outbox;

/// The track every demo doctor follows (the sample track in `courses/`).
pub const TRACK: &str = "paediatrics";

/// A person the script acts as.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: PersonId,
    pub name: String,
    pub email: String,
    pub caller: Caller,
}

impl Member {
    fn of(view: &PersonView) -> Member {
        Member {
            id: view.id,
            name: view.name.clone(),
            email: view.email.clone(),
            caller: Caller {
                principal: Principal::Person(Actor {
                    id: view.id,
                    roles: view.roles.clone(),
                    institution_id: view.institution_id,
                }),
                ip: Some("127.0.0.1".to_owned()),
                session_hash: None,
            },
        }
    }
}

/// What the script needs to know about the alliance.
pub struct Alliance {
    pub admin: Member,
    /// Community institutions that are alliance members (doctors work
    /// here), and those that are not yet.
    pub members: Vec<i64>,
    pub examiners: Vec<Member>,
    /// Committee members at the tertiary hospital, then one at a maternal
    /// and child health hospital.
    pub committee: Vec<Member>,
    pub desk: Member,
    pub instructor: Member,
    pub departments: Vec<i64>,
    pub sign_ins: Vec<SignIn>,
}

/// Creates the institutions and staff. The admin comes from
/// `people::create_admin` (the operator's bootstrap); everyone else is
/// created by the admin and sets a password through the emailed link.
pub async fn found(ctx: &Ctx, rng: &mut ChaCha8Rng, figures: &super::Figures) -> Result<Alliance> {
    let admin = bootstrap_admin(ctx).await?;
    let mut sign_ins = vec![SignIn {
        role: "admin",
        email: admin.email.clone(),
        name: admin.name.clone(),
    }];
    let institutions = found_institutions(ctx, &admin, figures).await?;
    let mut staff = Staff {
        ctx,
        admin: &admin,
        rng,
        next: 0,
    };
    let hired = hire_staff(&mut staff, &institutions).await?;
    let (Some(examiner), Some(chair)) = (hired.examiners.first(), hired.committee.first()) else {
        return Err(Error::internal(
            "demo: no examiner or committee member was hired",
        ));
    };
    for (role, member) in [
        ("examiner", examiner),
        ("committee member", chair),
        ("referral desk", &hired.desk),
        ("instructor", &hired.instructor),
    ] {
        sign_ins.push(SignIn {
            role,
            email: member.email.clone(),
            name: member.name.clone(),
        });
    }
    set_track_policy(ctx, &chair.caller).await?;
    let departments = open_departments(ctx, &admin, institutions.tertiary).await?;
    continuing_education(ctx, &admin).await?;

    Ok(Alliance {
        admin,
        members: institutions.members,
        examiners: hired.examiners,
        committee: hired.committee,
        desk: hired.desk,
        instructor: hired.instructor,
        departments,
        sign_ins,
    })
}

/// The admin, as the operator's bootstrap creates it.
async fn bootstrap_admin(ctx: &Ctx) -> Result<Member> {
    let admin_email = people::email("admin");
    let admin_row = {
        let db = ctx.db.clone();
        let email = admin_email.clone();
        crate::store::blocking(move || {
            crate::services::people::create_admin(
                &db,
                &email,
                "联盟管理员 Admin",
                people::DEMO_PASSWORD,
            )
        })
        .await?
    };
    let admin_view = crate::services::people::get(
        ctx,
        &Caller {
            principal: Principal::Person(Actor {
                id: admin_row.id,
                roles: vec![crate::domain::roles::Role::Admin],
                institution_id: None,
            }),
            ip: None,
            session_hash: None,
        },
        admin_row.id,
    )
    .await?;
    Ok(Member::of(&admin_view))
}

/// The alliance's institutions by what the script does with them.
struct Institutions {
    tertiary: i64,
    /// The maternal and child health hospitals.
    mch: Vec<i64>,
    /// The community institutions that are alliance members.
    members: Vec<i64>,
}

/// The tertiary hospital, the districts' maternal and child health
/// hospitals and the community institutions (some not yet members).
async fn found_institutions(
    ctx: &Ctx,
    admin: &Member,
    figures: &super::Figures,
) -> Result<Institutions> {
    let institution = |name: String, level: &str, region: &str, alliance: bool| InstitutionInput {
        name,
        level: level.to_owned(),
        region: region.to_owned(),
        alliance_member: alliance,
    };
    let tertiary = institutions::create(
        ctx,
        &admin.caller,
        institution(
            "重庆联盟儿童医院（三级甲等）".to_owned(),
            "tertiary",
            DISTRICTS[0],
            true,
        ),
    )
    .await?
    .id;
    let mut mch = Vec::new();
    for district in DISTRICTS.iter().skip(1).take(figures.mch_hospitals) {
        let row = institutions::create(
            ctx,
            &admin.caller,
            institution(format!("{district}妇幼保健院"), "secondary", district, true),
        )
        .await?;
        mch.push(row.id);
    }
    let mut members = Vec::new();
    for n in 0..figures.community_institutions {
        let district = super::pick(&DISTRICTS, n).unwrap_or_default();
        let alliance = n < figures.alliance_members;
        let level = if n % 3 == 2 { "township" } else { "community" };
        let row = institutions::create(
            ctx,
            &admin.caller,
            institution(
                people::community_name(district, n / DISTRICTS.len()),
                level,
                district,
                alliance,
            ),
        )
        .await?;
        if alliance {
            members.push(row.id);
        }
    }
    Ok(Institutions {
        tertiary,
        mch,
        members,
    })
}

/// The staff the script acts as.
struct Hired {
    examiners: Vec<Member>,
    committee: Vec<Member>,
    desk: Member,
    instructor: Member,
}

/// Six examiners, four committee members at the tertiary hospital and one
/// at a maternal and child health hospital, the referral desk and an
/// instructor.
async fn hire_staff(staff: &mut Staff<'_>, institutions: &Institutions) -> Result<Hired> {
    let tertiary = institutions.tertiary;
    let mut examiners = Vec::new();
    for i in 0..6 {
        examiners.push(
            staff
                .person(&format!("examiner{}", i + 1), &["examiner"], Some(tertiary))
                .await?,
        );
    }
    let mut committee = Vec::new();
    for i in 0..4 {
        committee.push(
            staff
                .person(
                    &format!("committee{}", i + 1),
                    &["committee"],
                    Some(tertiary),
                )
                .await?,
        );
    }
    if let Some(&first_mch) = institutions.mch.first() {
        committee.push(
            staff
                .person("committee5", &["committee"], Some(first_mch))
                .await?,
        );
    }
    let desk = staff
        .person("desk", &["referral_desk"], Some(tertiary))
        .await?;
    let instructor = staff
        .person("instructor", &["instructor"], Some(tertiary))
        .await?;
    Ok(Hired {
        examiners,
        committee,
        desk,
        instructor,
    })
}

/// The committee sets the track's policy: two attempts per exam stage,
/// two weeks between attempts, six months' cool-off after a rejection,
/// three votes to decide.
async fn set_track_policy(ctx: &Ctx, chair: &Caller) -> Result<()> {
    let mut policy = committee::policy(ctx, chair, TRACK.to_owned()).await?;
    policy = TrackPolicy {
        stage_attempts: 2,
        retake_wait_days: 14,
        cooloff_days: 180,
        requires_practical: false,
        quorum: 3,
        ..policy
    };
    committee::set_policy(ctx, chair, TRACK.to_owned(), policy).await?;
    Ok(())
}

/// The tertiary hospital's paediatric departments that take referrals.
async fn open_departments(ctx: &Ctx, admin: &Member, tertiary: i64) -> Result<Vec<i64>> {
    let mut departments = Vec::new();
    for (code, name, slots, beds) in [
        ("PED-RESP", "儿童呼吸科", 6, 4),
        ("PED-NEO", "新生儿科", 4, 6),
        ("PED-GEN", "儿童普通内科", 8, 4),
        ("PED-ID", "儿童感染科", 4, 3),
    ] {
        let d = referrals::save_department(
            ctx,
            &admin.caller,
            None,
            DepartmentInput {
                institution_id: Some(tertiary),
                track: TRACK.to_owned(),
                code: code.to_owned(),
                name: name.to_owned(),
                clinic_slots_per_day: slots,
                beds,
                active: true,
            },
        )
        .await?;
        departments.push(d.id);
    }
    Ok(departments)
}

/// The continuing-education course renewing doctors study (12 credit hours,
/// the track's renewal requirement), written by the admin in the browser's
/// course editor.
pub const CE_COURSE: &str = "paediatrics-continuing-education";

const CE_LESSONS: [(&str, &str, &str); 4] = [
    (
        "sepsis-recognition",
        "儿童脓毒症的早期识别",
        "## 要点\n\n- 体温异常伴心率、呼吸增快，毛细血管再充盈时间超过3秒，应考虑脓毒症。\n- 精神反应差、皮肤花纹、尿量减少是危险征象。\n- 基层处理：吸氧、建立静脉通路、首剂抗生素前留取血培养（如条件允许），立即经绿色通道转诊。\n",
    ),
    (
        "referral-quality",
        "转诊质量：哪些孩子需要转上去",
        "## 要点\n\n- 转诊前核对危险征象清单，书写SBAR交接。\n- 轻症上呼吸道感染、单纯发热无危险征象者可在社区观察。\n- 每月质控会议回顾不适当转诊，持续改进。\n",
    ),
    (
        "antibiotic-stewardship",
        "基层儿科抗菌药物合理使用",
        "## 要点\n\n- 病毒性上呼吸道感染不使用抗菌药物。\n- 社区获得性肺炎首选阿莫西林，疗程5天。\n- 向家长解释为何不需要抗菌药物，并告知复诊指征。\n",
    ),
    (
        "follow-up-after-referral",
        "转回社区后的随访",
        "## 要点\n\n- 接收上级医院的转回医嘱，3天内首次随访。\n- 记录体温、呼吸、进食与尿量，出现危险征象再次转诊。\n- 随访结果回传联盟平台，形成闭环。\n",
    ),
];

async fn continuing_education(ctx: &Ctx, admin: &Member) -> Result<()> {
    use crate::domain::courses::{CourseMeta, ModuleSpec};
    courses::save_course(
        ctx,
        &admin.caller,
        CourseMeta {
            key: CE_COURSE.to_owned(),
            title: "儿科继续教育：脓毒症、转诊质量与合理用药".to_owned(),
            summary: "联盟医生续期所需的继续教育课程（12学时）。".to_owned(),
            language: "zh-CN".to_owned(),
            credit_hours: 12.0,
            sample: true,
            published: true,
        },
    )
    .await?;
    courses::save_module(
        ctx,
        &admin.caller,
        CE_COURSE,
        ModuleSpec {
            key: "update".to_owned(),
            title: "年度进展".to_owned(),
            lessons: CE_LESSONS.iter().map(|(k, _, _)| (*k).to_owned()).collect(),
            quiz: None,
            line: 0,
        },
    )
    .await?;
    for (key, title, markdown) in CE_LESSONS {
        courses::save_lesson(
            ctx,
            &admin.caller,
            CE_COURSE,
            courses::LessonInput {
                module_key: "update".to_owned(),
                key: key.to_owned(),
                title: title.to_owned(),
                minutes: 45,
                video: None,
                markdown: markdown.to_owned(),
            },
        )
        .await?;
    }
    Ok(())
}

/// The continuing-education lessons, in study order.
pub fn ce_lessons() -> impl Iterator<Item = &'static str> {
    CE_LESSONS.iter().map(|(k, _, _)| *k)
}

/// Creates people as the admin does.
pub struct Staff<'a> {
    pub ctx: &'a Ctx,
    pub admin: &'a Member,
    pub rng: &'a mut ChaCha8Rng,
    pub next: usize,
}

impl Staff<'_> {
    /// A person with a password set through the emailed one-time link, as
    /// a new colleague would (for the accounts a visitor signs in with).
    pub async fn person(
        &mut self,
        local: &str,
        roles: &[&str],
        institution: Option<i64>,
    ) -> Result<Member> {
        let member = self.account(local, roles, institution).await?;
        let token = setup_token(self.ctx, &member.email).await?;
        accounts::set_password_with_link(self.ctx, token, people::DEMO_PASSWORD.to_owned(), None)
            .await?;
        Ok(member)
    }

    /// A person without a password yet (their link waits in their mail).
    pub async fn account(
        &mut self,
        local: &str,
        roles: &[&str],
        institution: Option<i64>,
    ) -> Result<Member> {
        self.next += 1;
        let doctor = roles.contains(&"doctor");
        let input = PersonInput {
            email: people::email(local),
            name: people::name(self.rng),
            phone: people::phone(self.rng),
            practising_certificate: if doctor {
                people::certificate(self.next)
            } else {
                String::new()
            },
            institution_id: institution,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            locale: "zh-CN".to_owned(),
        };
        let view = crate::services::people::create(self.ctx, &self.admin.caller, input).await?;
        Ok(Member::of(&view))
    }
}

/// The one-time link in the newest mail to `email` (the person opens it).
async fn setup_token(ctx: &Ctx, email: &str) -> Result<String> {
    let email = email.to_owned();
    let mail = ctx
        .db
        .read(move |conn| Ok(outbox::for_address(conn, &email)?))
        .await?;
    let body = mail
        .first()
        .map(|m| m.body_text.clone())
        .ok_or_else(|| Error::internal("demo: no setup mail was queued"))?;
    body.split("token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .ok_or_else(|| Error::internal("demo: the setup mail has no link"))
}
