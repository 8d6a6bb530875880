//! The green channel of the script: a certified doctor refers a child up
//! through the gate, the referral desk accepts into a reserved slot, sees,
//! rates and refers back down.

use crate::demo::pick;
use chrono::Datelike;
use rand::Rng;

use super::Player;
use crate::error::{Error, Result};
use crate::services::referrals::{self, DeskStep, ReferralInput};

/// Reasons a community doctor refers a child up, with a diagnosis (its
/// ICD-10 code, a space, then its name) and the findings.
const CASES: [(&str, &str, &str); 8] = [
    (
        "持续高热3天伴呼吸急促，社区雾化后无改善",
        "J18.9 肺炎",
        "体温39.4℃，呼吸56次/分，可见三凹征，SpO2 93%",
    ),
    (
        "新生儿黄疸进行性加重，经皮胆红素超过光疗线",
        "P59.9 新生儿黄疸",
        "生后5天，TcB 18.6 mg/dL，吃奶尚可",
    ),
    (
        "喘息反复发作，本次雾化后仍气促",
        "J45.9 支气管哮喘",
        "呼吸40次/分，双肺哮鸣音，说话断续",
    ),
    (
        "腹泻伴呕吐2天，尿量减少",
        "A09 感染性腹泻伴中度脱水",
        "眼窝凹陷，皮肤弹性减退，6小时无尿",
    ),
    (
        "热性惊厥首次发作，抽搐约6分钟",
        "R56.0 热性惊厥",
        "发作后嗜睡，体温39.0℃，无颈抵抗",
    ),
    (
        "3月龄以下婴儿发热，精神反应差",
        "R50.9 发热",
        "2月龄，腋温38.5℃，吃奶减少",
    ),
    (
        "皮疹伴高热5天，手足硬肿，唇红皲裂",
        "M30.3 川崎病待排",
        "球结膜充血，颈部淋巴结肿大",
    ),
    (
        "体重增长不良3个月，生长曲线跌落两条主线",
        "R62.8 生长迟缓",
        "体重低于第3百分位，喂养史欠详",
    ),
];

const GIVEN: [&str; 10] = [
    "小雨", "子涵", "梓萱", "浩宇", "一诺", "欣怡", "宇轩", "雨桐", "俊熙", "诗涵",
];

pub async fn refer(p: &mut Player<'_>, referral: usize) -> Result<()> {
    let plan =
        p.script.referrals.get(referral).cloned().ok_or_else(|| {
            Error::internal(format!("demo: no referral {referral} in the script"))
        })?;
    let (reason, diagnosis, findings) = pick(&CASES, referral).unwrap_or_default();
    let (diagnosis_code, diagnosis) = diagnosis.split_once(' ').unwrap_or(("", diagnosis));
    let department = pick(&p.alliance.departments, plan.department)
        .ok_or_else(|| Error::internal("demo: the tertiary hospital has no departments"))?;
    let today = crate::clock::now().date_naive();
    let months_old = p.rng.random_range(1..150);
    let birth = today
        .checked_sub_months(chrono::Months::new(months_old))
        .unwrap_or(today);
    let slot = today + chrono::Days::new(2);
    let input = ReferralInput {
        department_id: department,
        patient_name: format!(
            "{}{}",
            pick(&["张", "王", "李", "刘", "陈"], referral).unwrap_or_default(),
            pick(&GIVEN, referral).unwrap_or_default()
        ),
        patient_sex: if referral.is_multiple_of(2) {
            "female"
        } else {
            "male"
        }
        .to_owned(),
        patient_birth_date: format!(
            "{:04}-{:02}-{:02}",
            birth.year(),
            birth.month(),
            birth.day()
        ),
        guardian_phone: format!("139{:08}", p.rng.random_range(0..100_000_000u32)),
        urgency: if plan.urgent { "urgent" } else { "routine" }.to_owned(),
        reason: reason.to_owned(),
        diagnosis: diagnosis.to_owned(),
        diagnosis_code: Some(diagnosis_code.to_owned()),
        findings: findings.to_owned(),
        slot_date: Some(slot.format("%Y-%m-%d").to_string()),
        needs_bed: plan.urgent,
    };
    let created = referrals::open(p.ctx, &p.doctor(plan.doctor)?.caller, input, None).await?;
    match created {
        crate::services::idempotency::Created::New(view) => {
            let slot = p
                .referrals
                .get_mut(referral)
                .ok_or_else(|| Error::internal(format!("demo: no referral {referral}")))?;
            *slot = Some(view.id);
            Ok(())
        }
        crate::services::idempotency::Created::Replayed(_) => {
            Err(Error::internal("demo: a referral was replayed"))
        }
    }
}

fn id(p: &Player<'_>, referral: usize) -> Result<i64> {
    p.referrals
        .get(referral)
        .copied()
        .flatten()
        .ok_or_else(|| Error::internal("demo: the referral was not opened"))
}

pub async fn accept(p: &mut Player<'_>, referral: usize) -> Result<()> {
    let id = id(p, referral)?;
    referrals::desk_step(
        p.ctx,
        &p.alliance.desk.caller,
        id,
        DeskStep::Accept { slot_date: None },
    )
    .await?;
    Ok(())
}

pub async fn seen(p: &mut Player<'_>, referral: usize) -> Result<()> {
    let id = id(p, referral)?;
    referrals::desk_step(p.ctx, &p.alliance.desk.caller, id, DeskStep::Seen).await?;
    Ok(())
}

pub async fn rate(p: &mut Player<'_>, referral: usize) -> Result<()> {
    let id = id(p, referral)?;
    let appropriate = p
        .script
        .referrals
        .get(referral)
        .is_some_and(|r| r.appropriate);
    let comment = if appropriate {
        "转诊指征明确，转运前处理得当。"
    } else {
        "可在社区处理，未达转诊指征；已反馈基层医生。"
    };
    referrals::desk_step(
        p.ctx,
        &p.alliance.desk.caller,
        id,
        DeskStep::Rate {
            appropriate,
            comment: comment.to_owned(),
        },
    )
    .await?;
    Ok(())
}

pub async fn refer_back(p: &mut Player<'_>, referral: usize) -> Result<()> {
    let id = id(p, referral)?;
    referrals::desk_step(
        p.ctx,
        &p.alliance.desk.caller,
        id,
        DeskStep::ReferBack {
            instructions:
                "病情稳定，转回社区随访：3天后复诊，监测体温、呼吸和进食；出现危险征象立即复诊。"
                    .to_owned(),
        },
    )
    .await?;
    Ok(())
}
