//! What both backends share for the Delivery Service traits: the shape checks of a message's
//! commit effects (which need no database), and the page size cap.

use std::collections::HashSet;

use crate::{CommitEffects, MessageKind};

/// The most messages one `messages_after` / `messages_before` call returns.
pub(crate) const MAX_PAGE: u32 = 1000;

/// The effects to apply for a message of `kind`, or `None` if their shape alone makes them
/// invalid: effects on an application message, a device named twice (added twice, removed
/// twice, or both), or devices added without a Welcome for them. A commit without effects (a
/// key update) changes no membership.
///
/// The caller reports `None` as `InvalidEffects` only after the membership, duplicate and
/// epoch checks, so that a resend is still recognised as a duplicate.
pub(crate) fn plan(kind: MessageKind, effects: Option<CommitEffects>) -> Option<CommitEffects> {
    match (kind, effects) {
        (MessageKind::Application, None) => Some(CommitEffects::default()),
        (MessageKind::Application, Some(_)) => None,
        (MessageKind::Commit, effects) => {
            let effects = effects.unwrap_or_default();
            let mut seen = HashSet::new();
            let distinct = effects
                .added
                .iter()
                .map(|(device, _)| device)
                .chain(&effects.removed)
                .all(|device| seen.insert(*device));
            let welcomed = effects.added.is_empty() || effects.welcome.is_some();
            (distinct && welcomed).then_some(effects)
        }
    }
}

/// `limit`, capped at [`MAX_PAGE`], for a query.
pub(crate) fn page(limit: u32) -> i64 {
    i64::from(limit.min(MAX_PAGE))
}

#[cfg(test)]
mod tests {
    use ting_proto::{DeviceId, UserId};

    use super::{MAX_PAGE, page, plan};
    use crate::{CommitEffects, MessageKind};

    #[test]
    fn shapes() {
        let (a, b, user) = (DeviceId::random(), DeviceId::random(), UserId::random());
        let effects = |added: Vec<(DeviceId, UserId)>, removed: Vec<DeviceId>, welcome: bool| {
            Some(CommitEffects {
                added,
                removed,
                welcome: welcome.then(|| vec![1]),
            })
        };
        assert!(plan(MessageKind::Application, None).is_some());
        assert!(plan(MessageKind::Application, Some(CommitEffects::default())).is_none());
        assert!(plan(MessageKind::Commit, None).is_some());
        assert!(plan(MessageKind::Commit, effects(vec![(a, user)], vec![b], true)).is_some());
        assert!(plan(MessageKind::Commit, effects(vec![], vec![b], false)).is_some());
        assert!(plan(MessageKind::Commit, effects(vec![(a, user)], vec![], false)).is_none());
        assert!(plan(MessageKind::Commit, effects(vec![(a, user)], vec![a], true)).is_none());
        assert!(plan(MessageKind::Commit, effects(vec![], vec![b, b], false)).is_none());
        assert!(
            plan(
                MessageKind::Commit,
                effects(vec![(a, user), (a, user)], vec![], true)
            )
            .is_none()
        );
    }

    #[test]
    fn pages_are_capped() {
        assert_eq!(page(0), 0);
        assert_eq!(page(10), 10);
        assert_eq!(page(u32::MAX), i64::from(MAX_PAGE));
    }
}
