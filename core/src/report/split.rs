//! Counts split by gender and age band, as every figure of the follow-up is ("kvinnor och
//! män, flickor och pojkar", and by age).

use serde::ser::{SerializeMap, SerializeStruct};

use crate::calendar::Date;
use crate::rules::age_on;
use crate::schema::codes::Gender;
use crate::schema::household::Member;

/// The age bands of the reports: children, young adults, and three adult bands, with the
/// target group's 18–64 falling exactly on band edges.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum AgeBand {
    /// 0–17: children ("flickor och pojkar").
    #[serde(rename = "0_17")]
    Under18,
    /// 18–24.
    #[serde(rename = "18_24")]
    From18To24,
    /// 25–44.
    #[serde(rename = "25_44")]
    From25To44,
    /// 45–64.
    #[serde(rename = "45_64")]
    From45To64,
    /// 65 and older.
    #[serde(rename = "65_plus")]
    From65,
}

impl AgeBand {
    /// Every band, youngest first.
    pub const ALL: [AgeBand; 5] = [
        AgeBand::Under18,
        AgeBand::From18To24,
        AgeBand::From25To44,
        AgeBand::From45To64,
        AgeBand::From65,
    ];

    /// The band an age in whole years falls in.
    pub fn of_age(age: u32) -> Self {
        match age {
            0..=17 => AgeBand::Under18,
            18..=24 => AgeBand::From18To24,
            25..=44 => AgeBand::From25To44,
            45..=64 => AgeBand::From45To64,
            _ => AgeBand::From65,
        }
    }

    /// The band of someone born on `birth_date`, on `on`.
    pub fn on(birth_date: Date, on: Date) -> Self {
        Self::of_age(age_on(birth_date, on))
    }

    /// The stable code, as in JSON and in machine-keyed CSV headers: `0_17` … `65_plus`.
    pub const fn code(self) -> &'static str {
        match self {
            AgeBand::Under18 => "0_17",
            AgeBand::From18To24 => "18_24",
            AgeBand::From25To44 => "25_44",
            AgeBand::From45To64 => "45_64",
            AgeBand::From65 => "65_plus",
        }
    }

    /// The band as people write it, the same in Swedish and English: `0–17` … `65+`.
    pub const fn label(self) -> &'static str {
        match self {
            AgeBand::Under18 => "0–17",
            AgeBand::From18To24 => "18–24",
            AgeBand::From25To44 => "25–44",
            AgeBand::From45To64 => "45–64",
            AgeBand::From65 => "65+",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

fn gender_index(gender: Gender) -> usize {
    match gender {
        Gender::Female => 0,
        Gender::Male => 1,
        Gender::Other => 2,
    }
}

const GENDERS: usize = 3;
const BANDS: usize = AgeBand::ALL.len();

/// People counted by gender and age band.
///
/// Serialises as `{ "cells": { "female": { "0_17": 1, … }, … }, "by_gender": { … },
/// "by_age_band": { … }, "total": n }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GenderAgeSplit {
    counts: [[u64; BANDS]; GENDERS],
}

impl GenderAgeSplit {
    /// No one counted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one person more.
    pub fn add(&mut self, gender: Gender, band: AgeBand) {
        self.counts[gender_index(gender)][band.index()] += 1;
    }

    /// Counts `member` as of `on`: their age band on that day.
    pub fn add_member(&mut self, member: &Member, on: Date) {
        self.add(member.gender, AgeBand::on(member.birth_date, on));
    }

    /// How many of one gender in one band.
    pub fn get(&self, gender: Gender, band: AgeBand) -> u64 {
        self.counts[gender_index(gender)][band.index()]
    }

    /// How many of one gender, all ages.
    pub fn gender_total(&self, gender: Gender) -> u64 {
        self.counts[gender_index(gender)].iter().sum()
    }

    /// How many in one band, all genders.
    pub fn age_band_total(&self, band: AgeBand) -> u64 {
        self.counts.iter().map(|row| row[band.index()]).sum()
    }

    /// How many in all.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Every count, row by row: each gender of [`Gender::ALL`] with each band of
    /// [`AgeBand::ALL`], then the gender totals, then the band totals. The order of
    /// [`split_columns`](crate::split_columns).
    pub fn values(&self) -> Vec<u64> {
        let cells = Gender::ALL
            .iter()
            .flat_map(|gender| AgeBand::ALL.map(|band| self.get(*gender, band)));
        let genders = Gender::ALL.iter().map(|gender| self.gender_total(*gender));
        let bands = AgeBand::ALL.iter().map(|band| self.age_band_total(*band));
        cells.chain(genders).chain(bands).collect()
    }
}

impl std::ops::AddAssign<&GenderAgeSplit> for GenderAgeSplit {
    fn add_assign(&mut self, other: &GenderAgeSplit) {
        for (row, other_row) in self.counts.iter_mut().zip(&other.counts) {
            for (count, other_count) in row.iter_mut().zip(other_row) {
                *count += other_count;
            }
        }
    }
}

struct ByBand<'a>(&'a [u64; BANDS]);

impl serde::Serialize for ByBand<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(BANDS))?;
        for band in AgeBand::ALL {
            map.serialize_entry(band.code(), &self.0[band.index()])?;
        }
        map.end()
    }
}

struct ByGender<'a, T>(&'a [T; GENDERS]);

impl<T: serde::Serialize> serde::Serialize for ByGender<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(GENDERS))?;
        for gender in Gender::ALL {
            map.serialize_entry(gender.code(), &self.0[gender_index(*gender)])?;
        }
        map.end()
    }
}

impl serde::Serialize for GenderAgeSplit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let cells = self.counts.each_ref().map(ByBand);
        let by_gender: [u64; GENDERS] =
            std::array::from_fn(|index| self.counts[index].iter().sum());
        let by_band = AgeBand::ALL.map(|band| self.age_band_total(band));
        let mut split = serializer.serialize_struct("GenderAgeSplit", 4)?;
        split.serialize_field("cells", &ByGender(&cells))?;
        split.serialize_field("by_gender", &ByGender(&by_gender))?;
        split.serialize_field("by_age_band", &ByBand(&by_band))?;
        split.serialize_field("total", &self.total())?;
        split.end()
    }
}

/// A split as JSON holds it. Every gender and band must be there; the totals are read to
/// be checked against the cells, since a split whose totals disagree was not written by Lots.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSplit {
    cells: std::collections::BTreeMap<Gender, std::collections::BTreeMap<AgeBand, u64>>,
    by_gender: std::collections::BTreeMap<Gender, u64>,
    by_age_band: std::collections::BTreeMap<AgeBand, u64>,
    total: u64,
}

impl<'de> serde::Deserialize<'de> for GenderAgeSplit {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = RawSplit::deserialize(deserializer)?;
        let mut split = GenderAgeSplit::new();
        for gender in Gender::ALL {
            let bands = raw
                .cells
                .get(gender)
                .ok_or_else(|| D::Error::custom(format!("no cells for {}", gender.code())))?;
            for band in AgeBand::ALL {
                let count = bands.get(&band).ok_or_else(|| {
                    D::Error::custom(format!("no cell for {} {}", gender.code(), band.code()))
                })?;
                split.counts[gender_index(*gender)][band.index()] = *count;
            }
        }
        let genders_agree = Gender::ALL
            .iter()
            .all(|gender| raw.by_gender.get(gender) == Some(&split.gender_total(*gender)));
        let bands_agree = AgeBand::ALL
            .iter()
            .all(|band| raw.by_age_band.get(band) == Some(&split.age_band_total(*band)));
        if !genders_agree || !bands_agree || raw.total != split.total() {
            return Err(D::Error::custom(
                "a split's totals do not add up to its cells",
            ));
        }
        Ok(split)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_fall_in_bands_at_their_edges() {
        let cases = [
            (0, AgeBand::Under18),
            (17, AgeBand::Under18),
            (18, AgeBand::From18To24),
            (24, AgeBand::From18To24),
            (25, AgeBand::From25To44),
            (44, AgeBand::From25To44),
            (45, AgeBand::From45To64),
            (64, AgeBand::From45To64),
            (65, AgeBand::From65),
            (110, AgeBand::From65),
        ];
        for (age, band) in cases {
            assert_eq!(AgeBand::of_age(age), band, "age {age}");
        }
        let birth = Date::from_ymd(2008, 3, 15).unwrap();
        assert_eq!(
            AgeBand::on(birth, Date::from_ymd(2026, 3, 14).unwrap()),
            AgeBand::Under18
        );
        assert_eq!(
            AgeBand::on(birth, Date::from_ymd(2026, 3, 15).unwrap()),
            AgeBand::From18To24
        );
    }

    #[test]
    fn splits_add_up_every_way() {
        let mut split = GenderAgeSplit::new();
        split.add(Gender::Female, AgeBand::Under18);
        split.add(Gender::Female, AgeBand::Under18);
        split.add(Gender::Male, AgeBand::From25To44);
        split.add(Gender::Other, AgeBand::From65);
        assert_eq!(split.get(Gender::Female, AgeBand::Under18), 2);
        assert_eq!(split.get(Gender::Male, AgeBand::Under18), 0);
        assert_eq!(split.gender_total(Gender::Female), 2);
        assert_eq!(split.age_band_total(AgeBand::From25To44), 1);
        assert_eq!(split.total(), 4);
        let values = split.values();
        assert_eq!(values.len(), 15 + 3 + 5);
        assert_eq!(values[0], 2); // female 0–17
        assert_eq!(values[5 + 2], 1); // male 25–44
        assert_eq!(values[10 + 4], 1); // other 65+
        assert_eq!(&values[15..18], &[2, 1, 1]);
        assert_eq!(&values[18..], &[2, 0, 1, 0, 1]);
    }

    #[test]
    fn splits_serialise_with_codes() {
        let mut split = GenderAgeSplit::new();
        split.add(Gender::Male, AgeBand::From18To24);
        let json = serde_json::to_value(split).unwrap();
        assert_eq!(json["cells"]["male"]["18_24"], 1);
        assert_eq!(json["cells"]["female"]["65_plus"], 0);
        assert_eq!(json["by_gender"]["male"], 1);
        assert_eq!(json["by_age_band"]["18_24"], 1);
        assert_eq!(json["total"], 1);
        assert_eq!(serde_json::to_value(AgeBand::From65).unwrap(), "65_plus");
    }

    #[test]
    fn splits_read_back_as_written_and_totals_that_disagree_are_refused() {
        let mut split = GenderAgeSplit::new();
        split.add(Gender::Male, AgeBand::From18To24);
        split.add(Gender::Female, AgeBand::Under18);
        split.add(Gender::Female, AgeBand::Under18);
        let mut json = serde_json::to_value(split).unwrap();
        assert_eq!(
            serde_json::from_value::<GenderAgeSplit>(json.clone()).unwrap(),
            split
        );
        json["total"] = 4.into();
        assert!(serde_json::from_value::<GenderAgeSplit>(json.clone()).is_err());
        json["total"] = 3.into();
        json["cells"]["male"]
            .as_object_mut()
            .unwrap()
            .remove("18_24");
        assert!(serde_json::from_value::<GenderAgeSplit>(json).is_err());
    }
}
