//! Reading a document as it stood at some heads, in place.

use std::ops::RangeBounds;

use automerge::iter::{ListRange, MapRange};
use automerge::{self as am, Automerge, AutomergeError, ChangeHash, ObjId, Value};
use autosurgeon::ReadDoc;

/// A read-only view of a document as it stood at `heads`, for autosurgeon: every read goes
/// to Automerge's `*_at` twin. Hydrating through it reads the past in place, where
/// `Automerge::fork_at` would first replay every change up to `heads` into a new document
/// (almost all of the 26 ms a two-year household took to read as at a tertial's end;
/// BENCHMARKS.md).
pub(crate) struct AtHeads<'a> {
    pub(crate) doc: &'a Automerge,
    pub(crate) heads: &'a [ChangeHash],
}

impl ReadDoc for AtHeads<'_> {
    type Parents<'a>
        = am::Parents<'a>
    where
        Self: 'a;

    fn get_heads(&self) -> Vec<ChangeHash> {
        self.heads.to_vec()
    }

    fn get<P: Into<am::Prop>>(
        &self,
        obj: &ObjId,
        prop: P,
    ) -> Result<Option<(Value<'_>, ObjId)>, AutomergeError> {
        am::ReadDoc::get_at(self.doc, obj, prop, self.heads)
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<am::ObjType> {
        am::ReadDoc::object_type(self.doc, obj).ok()
    }

    fn map_range<'a, O: AsRef<ObjId>, R: RangeBounds<String> + 'a>(
        &'a self,
        obj: O,
        range: R,
    ) -> MapRange<'a> {
        am::ReadDoc::map_range_at(self.doc, obj, range, self.heads)
    }

    fn list_range<O: AsRef<ObjId>, R: RangeBounds<usize>>(
        &self,
        obj: O,
        range: R,
    ) -> ListRange<'_> {
        am::ReadDoc::list_range_at(self.doc, obj, range, self.heads)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        am::ReadDoc::length_at(self.doc, obj, self.heads)
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, AutomergeError> {
        am::ReadDoc::text_at(self.doc, obj, self.heads)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, AutomergeError> {
        am::ReadDoc::parents_at(self.doc, obj, self.heads)
    }

    fn is_empty(&self) -> bool {
        am::ReadDoc::keys_at(self.doc, am::ROOT, self.heads).count() == 0
    }
}
