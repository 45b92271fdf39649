//! KeyPackage cases.

use std::collections::BTreeSet;
use std::sync::Arc;

use ting_proto::{DeviceId, UserId};
use tokio::task::JoinSet;

use super::{T0, new_device, user_with_device};
use crate::{Error, KeyPackageClaim, Result, Store};

/// Distinct fake packages: `tag` then the index.
fn packages(tag: u8, n: u8) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![tag, i]).collect()
}

pub(super) async fn add_and_count(store: &dyn Store) -> Result<()> {
    let (_, device) = user_with_device(store, "olga").await?;
    assert_eq!(store.count_key_packages(device).await?, (0, false));
    assert_eq!(
        store
            .add_key_packages(device, packages(1, 3), None, T0)
            .await?,
        3
    );
    assert_eq!(store.count_key_packages(device).await?, (3, false));
    assert_eq!(
        store
            .add_key_packages(device, packages(2, 2), Some(vec![9]), T0)
            .await?,
        5
    );
    assert_eq!(store.count_key_packages(device).await?, (5, true));
    // An empty upload only reports the count.
    assert_eq!(
        store.add_key_packages(device, Vec::new(), None, T0).await?,
        5
    );
    // Unknown devices simply have nothing.
    assert_eq!(
        store.count_key_packages(DeviceId::random()).await?,
        (0, false)
    );
    Ok(())
}

pub(super) async fn need_active_device(store: &dyn Store) -> Result<()> {
    let (pia, device) = user_with_device(store, "pia").await?;
    let unknown = DeviceId::random();
    match store
        .add_key_packages(unknown, packages(1, 2), Some(vec![1]), T0)
        .await
    {
        Err(Error::NotFound("device")) => {}
        other => panic!("upload for an unknown device: expected NotFound, got {other:?}"),
    }
    assert_eq!(store.count_key_packages(unknown).await?, (0, false));
    assert!(store.revoke_device(device, T0).await?);
    match store
        .add_key_packages(device, packages(1, 2), Some(vec![1]), T0)
        .await
    {
        Err(Error::NotFound("device")) => {}
        other => panic!("upload for a revoked device: expected NotFound, got {other:?}"),
    }
    assert_eq!(store.count_key_packages(device).await?, (0, false));
    assert!(store.claim_key_packages(pia, None).await?.is_empty());
    Ok(())
}

pub(super) async fn last_resort_replaced(store: &dyn Store) -> Result<()> {
    let (quinn, device) = user_with_device(store, "quinn").await?;
    store
        .add_key_packages(device, Vec::new(), Some(vec![1, 1]), T0)
        .await?;
    store
        .add_key_packages(device, Vec::new(), Some(vec![2, 2]), T0 + 1)
        .await?;
    assert_eq!(store.count_key_packages(device).await?, (0, true));
    let expected = KeyPackageClaim {
        device_id: device,
        key_package: Some(vec![2, 2]),
        last_resort: true,
    };
    assert_eq!(
        store.claim_key_packages(quinn, None).await?,
        std::slice::from_ref(&expected)
    );
    // Not deleted by the claim.
    assert_eq!(store.claim_key_packages(quinn, None).await?, [expected]);
    assert_eq!(store.count_key_packages(device).await?, (0, true));
    Ok(())
}

pub(super) async fn claim_order(store: &dyn Store) -> Result<()> {
    let (rita, first) = user_with_device(store, "rita").await?;
    let second = store.create_device(new_device(rita, 2, T0 + 1)).await?.id;
    let empty = store.create_device(new_device(rita, 3, T0 + 2)).await?.id;
    let revoked = store.create_device(new_device(rita, 4, T0 + 3)).await?.id;
    store
        .add_key_packages(first, packages(1, 2), Some(vec![1, 99]), T0)
        .await?;
    store
        .add_key_packages(first, packages(3, 1), None, T0)
        .await?;
    store
        .add_key_packages(second, packages(2, 1), None, T0)
        .await?;
    store
        .add_key_packages(revoked, packages(4, 3), Some(vec![4]), T0)
        .await?;
    assert!(store.revoke_device(revoked, T0 + 4).await?);
    let claim =
        |device: DeviceId, key_package: Option<Vec<u8>>, last_resort: bool| KeyPackageClaim {
            device_id: device,
            key_package,
            last_resort,
        };
    // Oldest first across uploads; devices in creation order; revoked devices left out.
    assert_eq!(
        store.claim_key_packages(rita, None).await?,
        [
            claim(first, Some(vec![1, 0]), false),
            claim(second, Some(vec![2, 0]), false),
            claim(empty, None, false),
        ]
    );
    assert_eq!(store.count_key_packages(first).await?, (2, true));
    assert_eq!(
        store.claim_key_packages(rita, None).await?,
        [
            claim(first, Some(vec![1, 1]), false),
            claim(second, None, false),
            claim(empty, None, false),
        ]
    );
    assert_eq!(
        store.claim_key_packages(rita, None).await?[0],
        claim(first, Some(vec![3, 0]), false)
    );
    for _ in 0..2 {
        assert_eq!(
            store.claim_key_packages(rita, None).await?[0],
            claim(first, Some(vec![1, 99]), true)
        );
    }
    assert!(
        store
            .claim_key_packages(UserId::random(), None)
            .await?
            .is_empty()
    );
    // Claiming one device only takes only its package.
    store
        .add_key_packages(second, packages(5, 1), None, T0)
        .await?;
    let only = store.claim_key_packages(rita, Some(second)).await?;
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].device_id, second);
    assert_eq!(only[0].key_package, Some(vec![5, 0]));
    assert_eq!(store.count_key_packages(first).await?, (0, true));
    assert!(
        store
            .claim_key_packages(rita, Some(revoked))
            .await?
            .is_empty()
    );
    assert!(
        store
            .claim_key_packages(UserId::random(), Some(second))
            .await?
            .is_empty()
    );

    Ok(())
}

/// 8 concurrent claimers against 5 one-time packages on each of two devices (one with a
/// last-resort package): exactly the 5 packages come back, once each; then a heavier round.
pub(super) async fn claim_concurrent(store: Arc<dyn Store>) -> Result<()> {
    let (sam, with_lr) = user_with_device(&*store, "sam").await?;
    let without_lr = store.create_device(new_device(sam, 2, T0 + 1)).await?.id;
    store
        .add_key_packages(with_lr, packages(1, 5), Some(vec![1, 255]), T0)
        .await?;
    store
        .add_key_packages(without_lr, packages(2, 5), None, T0)
        .await?;

    let claims = claim_concurrently(&store, sam, 8, 1).await?;
    for (device, tag, last_resort) in [(with_lr, 1, Some(vec![1, 255])), (without_lr, 2, None)] {
        let mine: Vec<&KeyPackageClaim> = claims.iter().filter(|c| c.device_id == device).collect();
        assert_eq!(mine.len(), 8);
        let one_time: Vec<&Vec<u8>> = mine
            .iter()
            .filter(|c| !c.last_resort)
            .filter_map(|c| c.key_package.as_ref())
            .collect();
        let distinct: BTreeSet<&Vec<u8>> = one_time.iter().copied().collect();
        assert_eq!(
            one_time.len(),
            5,
            "each one-time package is claimed exactly once"
        );
        assert_eq!(distinct, packages(tag, 5).iter().collect());
        let rest: Vec<&KeyPackageClaim> = mine
            .iter()
            .copied()
            .filter(|c| c.last_resort || c.key_package.is_none())
            .collect();
        assert_eq!(rest.len(), 3);
        for c in rest {
            assert_eq!(c.key_package, last_resort);
            assert_eq!(c.last_resort, last_resort.is_some());
        }
    }
    assert_eq!(store.count_key_packages(with_lr).await?, (0, true));

    // Heavier: 8 claimers × 6 claims each against 40 packages.
    store
        .add_key_packages(with_lr, packages(3, 40), None, T0)
        .await?;
    let claims = claim_concurrently(&store, sam, 8, 6).await?;
    let taken: Vec<&Vec<u8>> = claims
        .iter()
        .filter(|c| c.device_id == with_lr && !c.last_resort)
        .filter_map(|c| c.key_package.as_ref())
        .collect();
    let distinct: BTreeSet<&Vec<u8>> = taken.iter().copied().collect();
    assert_eq!(taken.len(), 40);
    assert_eq!(distinct.len(), 40, "no one-time package was returned twice");
    assert_eq!(store.count_key_packages(with_lr).await?, (0, true));
    Ok(())
}

/// `claimers` tasks, each claiming `rounds` times; all claims, in no particular order.
async fn claim_concurrently(
    store: &Arc<dyn Store>,
    user: UserId,
    claimers: usize,
    rounds: usize,
) -> Result<Vec<KeyPackageClaim>> {
    let mut tasks = JoinSet::new();
    for _ in 0..claimers {
        let store = Arc::clone(store);
        tasks.spawn(async move {
            let mut claims = Vec::new();
            for _ in 0..rounds {
                claims.extend(store.claim_key_packages(user, None).await?);
            }
            Ok::<_, Error>(claims)
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        all.extend(joined.expect("task panicked")?);
    }
    Ok(all)
}
