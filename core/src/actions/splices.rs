//! A note edited as a whole, turned into splices: the character differences between the
//! note as it stands and as the person left it (from `similar`'s diff), so that what others
//! wrote elsewhere in the note meanwhile merges instead of being overwritten.

use similar::{ChangeTag, TextDiff};

/// The edits that turn `before` into `after`, as (position, delete, insert) in characters,
/// last first so that each position is still valid when it is applied.
pub(crate) fn splices(before: &str, after: &str) -> Vec<(usize, usize, String)> {
    let diff = TextDiff::from_chars(before, after);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut position = 0;
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => position += 1,
            ChangeTag::Delete => {
                match edits.last_mut() {
                    Some((at, delete, insert))
                        if *at + *delete == position && insert.is_empty() =>
                    {
                        *delete += 1
                    }
                    _ => edits.push((position, 1, String::new())),
                }
                position += 1;
            }
            ChangeTag::Insert => match edits.last_mut() {
                Some((at, delete, insert)) if *at + *delete == position => {
                    insert.push_str(change.value())
                }
                _ => edits.push((position, 0, change.value().to_owned())),
            },
        }
    }
    edits.reverse();
    edits
}

#[cfg(test)]
mod tests {
    use super::splices;

    /// Applies splices the way the document does, counting characters.
    fn apply(text: &str, splices: &[(usize, usize, String)]) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for (position, delete, insert) in splices {
            chars.splice(*position..position + delete, insert.chars());
        }
        chars.into_iter().collect()
    }

    #[test]
    fn splices_turn_one_text_into_the_other() {
        let cases = [
            ("", "Ny text"),
            ("Hej", ""),
            ("Möte på SFI i maj", "Möte på SFI i juni, med tolk"),
            ("åäö ÅÄÖ", "åö ÅÄÖ!"),
            ("abc", "abc"),
            ("ett två tre", "noll ett tre fyra"),
        ];
        for (before, after) in cases {
            assert_eq!(
                apply(before, &splices(before, after)),
                after,
                "{before:?} → {after:?}"
            );
        }
    }

    #[test]
    fn an_edit_in_one_place_is_one_splice() {
        assert_eq!(
            splices("Ring Försäkringskassan", "Ring Försäkringskassan i morgon"),
            vec![(22, 0, " i morgon".to_owned())]
        );
    }
}
