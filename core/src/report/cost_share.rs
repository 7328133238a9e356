//! The cost share between cooperating districts, as the three-district agreement on social
//! support for newcomers sets it: each district pays in proportion to its registered
//! newcomers aged 18–64.
//!
//! The agreement (Norrmalm, Kungsholmen and Östermalm, 2018–2019) took its counts from the
//! labour-market administration's lists of newcomers registered in 2017 and January–February
//! 2018 (Norrmalm 206, Kungsholmen 70, Östermalm 33) and wrote the shares as 66 %, 23 % and
//! 11 % of 2,800 thousand SEK a year. The exact shares of those counts are 66.67 %, 22.65 %
//! and 10.68 %; no single rounding rule gives 66/23/11 (rounding each gives 67/23/11, which
//! is 101 %), so [`cost_share`] keeps the exact fraction and rounds amounts by the largest
//! remainder, which always adds up to the total. The test `the_agreements_counts` shows the
//! figures.

use crate::ids::DistrictId;
use crate::report::period::Period;
use crate::report::table::{Column, Label, Row, Table, TableKind};
use crate::rules::{MAX_AGE, MIN_AGE, age_on};
use crate::schema::household::{Household, Member};

/// One district's count of registered newcomers aged 18–64: what its share rests on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewcomerCount {
    /// The district.
    pub district: DistrictId,
    /// Its registered newcomers aged 18–64.
    pub newcomers: u64,
}

/// Whether `member` of a household in the district counts as a registered newcomer aged
/// 18–64 in `period`; see [`count_newcomers`].
pub fn is_registered_newcomer(member: &Member, period: Period) -> bool {
    let newcomer = member
        .residence_permit_on
        .is_some_and(|permit| period.contains(permit));
    let age = age_on(member.birth_date, period.end());
    newcomer
        && member.born_outside_eea
        && member.registered_in_district
        && (MIN_AGE..=MAX_AGE).contains(&age)
        && member.birth_date <= period.end()
}

/// Counts each of `districts`' registered newcomers aged 18–64 in `period`, over
/// `households` as they stood at the period's end, in the order the districts are given.
///
/// A member counts for the district their household is in when they are registered
/// ("folkbokförd") in it, born outside the EU/EEA, aged 18–64 on the period's last day, and
/// their residence permit is dated in the period. The agreement counts people *registered*
/// in the period ("nyanlända som folkbokförts innan 1 januari 2017 ingår inte"); the
/// household document records no registration date, so the permit date, which registration
/// follows, stands in for it. Households of other districts are left out; a case's status
/// does not matter, since the agreement counts residents, not the team's cases. When the
/// counts come from elsewhere (the labour-market administration's lists, as in the
/// agreement), pass them to [`cost_share`] directly.
pub fn count_newcomers<'a>(
    households: impl IntoIterator<Item = &'a Household>,
    period: Period,
    districts: &[DistrictId],
) -> Vec<NewcomerCount> {
    let mut counts: Vec<NewcomerCount> = districts
        .iter()
        .map(|district| NewcomerCount {
            district: district.clone(),
            newcomers: 0,
        })
        .collect();
    for household in households {
        let Some(count) = counts
            .iter_mut()
            .find(|count| count.district == household.profile.district)
        else {
            continue;
        };
        count.newcomers += household
            .members
            .values()
            .filter(|member| is_registered_newcomer(member, period))
            .count() as u64;
    }
    counts
}

/// A district's part of the cost.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DistrictShare {
    /// The district.
    pub district: DistrictId,
    /// Its registered newcomers aged 18–64.
    pub newcomers: u64,
    /// Its exact share: `newcomers` over all districts' newcomers, unreduced.
    pub share: Share,
    /// The share in thousandths, rounded by the largest remainder so that the districts'
    /// add up to exactly 1,000.
    pub per_mille: u64,
    /// Its amount in öre, rounded by the largest remainder so that the districts' add up to
    /// exactly the total.
    pub amount_ore: u64,
}

/// An exact fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Share {
    /// The part.
    pub numerator: u64,
    /// The whole; never zero.
    pub denominator: u64,
}

/// The cost shared out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CostShare {
    /// The cost to share, in öre.
    pub total_ore: u64,
    /// All districts' newcomers together.
    pub newcomers: u64,
    /// Each district's part, in the order given.
    pub districts: Vec<DistrictShare>,
}

/// Why a cost cannot be shared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostShareError {
    /// No districts were given.
    #[error("no districts to share the cost between")]
    NoDistricts,
    /// Every district has zero newcomers, so there is nothing to share in proportion to.
    #[error(
        "none of the {districts} districts has any registered newcomers aged 18–64, so the cost \
         cannot be shared in proportion to them"
    )]
    NoNewcomers {
        /// How many districts were given.
        districts: usize,
    },
    /// The counts add up to more than 2^64, which no real count does.
    #[error("the newcomers add up to more than 2^64; the counts cannot be right")]
    TooManyNewcomers,
    /// A district was given twice.
    #[error("district {district} is given more than once")]
    DuplicateDistrict {
        /// The district.
        district: DistrictId,
    },
}

/// Shares `total_ore` between the districts in proportion to their newcomers.
///
/// Each district's exact part is `total_ore × newcomers / all newcomers`. Each gets the
/// whole öre of its part; the öre left over (fewer than the number of districts) go one each
/// to the districts with the largest fractions of an öre, ties going to the district with
/// more newcomers, then to the district whose id sorts first. The amounts therefore add up
/// to `total_ore` exactly and no district is more than one öre from its exact part. The
/// thousandths are rounded the same way. A district with no newcomers pays nothing.
pub fn cost_share(counts: &[NewcomerCount], total_ore: u64) -> Result<CostShare, CostShareError> {
    if counts.is_empty() {
        return Err(CostShareError::NoDistricts);
    }
    for (index, count) in counts.iter().enumerate() {
        if counts[..index]
            .iter()
            .any(|earlier| earlier.district == count.district)
        {
            return Err(CostShareError::DuplicateDistrict {
                district: count.district.clone(),
            });
        }
    }
    let newcomers = counts
        .iter()
        .try_fold(0_u64, |sum, count| sum.checked_add(count.newcomers))
        .ok_or(CostShareError::TooManyNewcomers)?;
    if newcomers == 0 {
        return Err(CostShareError::NoNewcomers {
            districts: counts.len(),
        });
    }
    let amounts = largest_remainder(counts, total_ore);
    let per_mille = largest_remainder(counts, 1000);
    let districts = counts
        .iter()
        .zip(amounts.into_iter().zip(per_mille))
        .map(|(count, (amount_ore, per_mille))| DistrictShare {
            district: count.district.clone(),
            newcomers: count.newcomers,
            share: Share {
                numerator: count.newcomers,
                denominator: newcomers,
            },
            per_mille,
            amount_ore,
        })
        .collect();
    Ok(CostShare {
        total_ore,
        newcomers,
        districts,
    })
}

/// Apportions `total` in proportion to the counts, whose sum is not zero and fits a u64.
fn largest_remainder(counts: &[NewcomerCount], total: u64) -> Vec<u64> {
    // In u128 no product of two u64 can overflow.
    let sum: u128 = counts.iter().map(|count| u128::from(count.newcomers)).sum();
    let exact: Vec<(u64, u128)> = counts
        .iter()
        .map(|count| {
            let product = u128::from(total) * u128::from(count.newcomers);
            // The quotient is at most `total`, so it fits.
            let whole = u64::try_from(product / sum).unwrap_or(total);
            (whole, product % sum)
        })
        .collect();
    let mut amounts: Vec<u64> = exact.iter().map(|(whole, _)| *whole).collect();
    let left_over = total - amounts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|a, b| {
        exact[*b]
            .1
            .cmp(&exact[*a].1)
            .then(counts[*b].newcomers.cmp(&counts[*a].newcomers))
            .then(counts[*a].district.cmp(&counts[*b].district))
    });
    for index in order.into_iter().take(left_over as usize) {
        amounts[index] += 1;
    }
    amounts
}

impl CostShare {
    /// The districts, then a total row: newcomers, the exact share, thousandths and öre.
    pub fn table(&self) -> Table {
        let columns = [
            Column::District,
            Column::Newcomers,
            Column::ShareNumerator,
            Column::ShareDenominator,
            Column::PerMille,
            Column::AmountOre,
        ]
        .map(Label::Column)
        .to_vec();
        let mut rows: Vec<Row> = self
            .districts
            .iter()
            .map(|district| Row {
                key: Label::District(district.district.clone()),
                values: vec![
                    district.newcomers,
                    district.share.numerator,
                    district.share.denominator,
                    district.per_mille,
                    district.amount_ore,
                ],
            })
            .collect();
        rows.push(Row {
            key: Label::Total,
            values: vec![
                self.newcomers,
                self.newcomers,
                self.newcomers,
                1000,
                self.total_ore,
            ],
        });
        Table {
            kind: TableKind::CostShare,
            columns,
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::MachineKeys;

    fn counts(pairs: &[(&str, u64)]) -> Vec<NewcomerCount> {
        pairs
            .iter()
            .map(|(district, newcomers)| NewcomerCount {
                district: DistrictId::new(*district).unwrap(),
                newcomers: *newcomers,
            })
            .collect()
    }

    fn amounts(share: &CostShare) -> Vec<u64> {
        share.districts.iter().map(|row| row.amount_ore).collect()
    }

    fn per_mille(share: &CostShare) -> Vec<u64> {
        share.districts.iter().map(|row| row.per_mille).collect()
    }

    /// The agreement's own counts and yearly cost (2,800 thousand SEK). Worked by hand:
    /// 280,000,000 öre × 206/309 = 186,666,666 remainder 206/309, × 70/309 = 63,430,420
    /// remainder 220/309, × 33/309 = 29,902,912 remainder 192/309; the whole öre add up to
    /// 279,999,998, and the two left go to Kungsholmen (220) and Norrmalm (206).
    #[test]
    fn the_agreements_counts() {
        let basis = counts(&[("norrmalm", 206), ("kungsholmen", 70), ("ostermalm", 33)]);
        let share = cost_share(&basis, 280_000_000).unwrap();
        assert_eq!(share.newcomers, 309);
        assert_eq!(amounts(&share), vec![186_666_667, 63_430_421, 29_902_912]);
        assert_eq!(amounts(&share).iter().sum::<u64>(), 280_000_000);
        // 666.67, 226.54 and 106.80 thousandths: 666 + 226 + 106 = 998, and the two left go
        // to Östermalm (.80) and Norrmalm (.67).
        assert_eq!(per_mille(&share), vec![667, 226, 107]);
        assert_eq!(
            share.districts[1].share,
            Share {
                numerator: 70,
                denominator: 309
            }
        );
        let csv = share.table().to_csv(&MachineKeys).unwrap();
        assert_eq!(
            csv,
            "district,newcomers,share_numerator,share_denominator,per_mille,amount_ore\n\
             norrmalm,206,206,309,667,186666667\n\
             kungsholmen,70,70,309,226,63430421\n\
             ostermalm,33,33,309,107,29902912\n\
             total,309,309,309,1000,280000000\n"
        );
    }

    #[test]
    fn remainders_break_ties_by_count_then_district() {
        // 100 öre in thirds: 33 each and one left over; the tie goes to the first id.
        let share = cost_share(&counts(&[("c", 1), ("a", 1), ("b", 1)]), 100).unwrap();
        assert_eq!(amounts(&share), vec![33, 34, 33]);
        // 10 öre over 1 + 3 + 3 (sum 7): exact 1.43, 4.29, 4.29; wholes 1 + 4 + 4 = 9; the
        // remainders 3/7, 2/7 and 2/7 give the one left over to the first.
        let share = cost_share(&counts(&[("a", 1), ("b", 3), ("c", 3)]), 10).unwrap();
        assert_eq!(amounts(&share), vec![2, 4, 4]);
        // Equal remainders, different counts: 2 öre over 1 + 3 (sum 4) is 0.5 and 1.5; the
        // one left goes to the district with more newcomers.
        let share = cost_share(&counts(&[("a", 1), ("b", 3)]), 2).unwrap();
        assert_eq!(amounts(&share), vec![0, 2]);
    }

    #[test]
    fn a_district_without_newcomers_pays_nothing() {
        let share = cost_share(&counts(&[("a", 0), ("b", 5)]), 100_000).unwrap();
        assert_eq!(amounts(&share), vec![0, 100_000]);
        assert_eq!(per_mille(&share), vec![0, 1000]);
        // Nothing to share is shared as nothing.
        let share = cost_share(&counts(&[("a", 2), ("b", 5)]), 0).unwrap();
        assert_eq!(amounts(&share), vec![0, 0]);
    }

    #[test]
    fn huge_figures_do_not_overflow() {
        let share = cost_share(
            &counts(&[("a", u64::MAX / 2), ("b", u64::MAX / 2)]),
            u64::MAX,
        )
        .unwrap();
        assert_eq!(
            amounts(&share).iter().map(|a| u128::from(*a)).sum::<u128>(),
            u128::from(u64::MAX)
        );
    }

    #[test]
    fn bad_input_gets_clear_errors() {
        assert_eq!(cost_share(&[], 100), Err(CostShareError::NoDistricts));
        let none = cost_share(&counts(&[("a", 0), ("b", 0)]), 100);
        assert_eq!(none, Err(CostShareError::NoNewcomers { districts: 2 }));
        assert_eq!(
            none.unwrap_err().to_string(),
            "none of the 2 districts has any registered newcomers aged 18–64, so the cost \
             cannot be shared in proportion to them"
        );
        assert_eq!(
            cost_share(&counts(&[("a", u64::MAX), ("b", 1)]), 100),
            Err(CostShareError::TooManyNewcomers)
        );
        assert_eq!(
            cost_share(&counts(&[("a", 1), ("b", 1), ("a", 2)]), 100),
            Err(CostShareError::DuplicateDistrict {
                district: DistrictId::new("a").unwrap()
            })
        );
    }
}
