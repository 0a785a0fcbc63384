//! P6, X2: what the rules engine proposes to 镇街联合研判 for one case.
//!
//! The monitoring tag is entered wide and left strict (宽进严出, 铜民发〔2025〕42号（四）): a
//! household that holds it keeps it in every case but 风险消除, and there only when rule 9
//! holds (stable months above the line, no open risk or gap, labour capacity) and no warning
//! about its members is still open. A household without labour capacity therefore stays
//! monitored after it leaves 低保 or 特困 by exit.

use crate::case::CaseKind;
use domain::Category;
use std::collections::BTreeSet;

/// The categories proposed to the meeting, and the notes that say why a held monitoring tag
/// stays where the rules alone would drop it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposedCategories {
    pub categories: BTreeSet<Category>,
    pub notes: Vec<String>,
}

/// P6, X2: the categories of `determination` (the monitoring tag where rule 6 tags the
/// household and rule 9 does not eliminate its risk), with a held monitoring tag kept unless
/// this is a 风险消除 case whose risk is eliminated and `open_warnings` (预警 about the
/// household's members not yet closed) is zero.
pub fn propose_categories(
    kind: CaseKind,
    held: &[Category],
    determination: &policy::Determination<'_>,
    open_warnings: usize,
) -> ProposedCategories {
    let mut categories: BTreeSet<Category> = determination
        .categories
        .iter()
        .map(|grant| grant.category)
        .collect();
    let mut notes = Vec::new();
    if determination.monitoring.is_some() && !determination.risk_eliminated {
        categories.insert(Category::Monitoring);
    }
    if held.contains(&Category::Monitoring) && !categories.contains(&Category::Monitoring) {
        let keep = match kind {
            CaseKind::RiskElimination if !determination.risk_eliminated => {
                notes.push("风险消除条件未满足，继续监测".to_owned());
                true
            }
            CaseKind::RiskElimination if open_warnings > 0 => {
                notes.push(format!(
                    "家庭成员尚有 {open_warnings} 条预警未办结（未消除的风险），继续监测"
                ));
                true
            }
            CaseKind::RiskElimination => false,
            CaseKind::Application | CaseKind::Recheck | CaseKind::Exit => {
                notes.push(
                    "防止返贫监测对象标识只能通过风险消除解除：按规退出并持续做好监测".to_owned(),
                );
                true
            }
        };
        if keep {
            categories.insert(Category::Monitoring);
        }
    }
    ProposedCategories { categories, notes }
}
