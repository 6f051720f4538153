//! Property test of the run queues: whatever the shape of the work — tasks spawned from inside
//! tasks or from outside threads, yielding or not, on either scheduler flavour and any worker
//! count — every spawned task runs exactly once and every JoinHandle yields its own output.
#![cfg(not(loom))]

use corio::runtime::{Builder, Runtime};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

/// One node of a random task tree: how often it yields, and its children.
#[derive(Clone, Debug)]
struct Node {
    yields: u8,
    children: Vec<Node>,
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = (0u8..3).prop_map(|yields| Node {
        yields,
        children: Vec::new(),
    });
    leaf.prop_recursive(3, 40, 4, |inner| {
        ((0u8..3), prop::collection::vec(inner, 0..4))
            .prop_map(|(yields, children)| Node { yields, children })
    })
}

fn count(node: &Node) -> usize {
    1 + node.children.iter().map(count).sum::<usize>()
}

/// Runs `node` as a task tree; each task bumps its own slot once and returns its index.
fn run(
    node: Node,
    next: Arc<AtomicUsize>,
    slots: Arc<Vec<AtomicUsize>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>> {
    Box::pin(async move {
        let me = next.fetch_add(1, SeqCst);
        slots[me].fetch_add(1, SeqCst);
        for _ in 0..node.yields {
            corio::task::yield_now().await;
        }
        let handles: Vec<_> = node
            .children
            .into_iter()
            .map(|child| corio::spawn(run(child, next.clone(), slots.clone())))
            .collect();
        let mut seen = Vec::new();
        for h in handles {
            seen.push(h.await.expect("no task in this test panics or is aborted"));
        }
        seen.sort_unstable();
        seen.dedup();
        assert!(!seen.contains(&me), "a child returned its parent's output");
        me
    })
}

fn runtime(flavor: u8) -> Runtime {
    match flavor {
        0 => Builder::new_current_thread().enable_all().build().unwrap(),
        n => Builder::new_multi_thread()
            .worker_threads(n as usize)
            .enable_all()
            .build()
            .unwrap(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_task_runs_exactly_once(
        flavor in 0u8..4,
        inside in prop::collection::vec(node(), 1..4),
        outside in prop::collection::vec(node(), 0..4),
    ) {
        let total: usize = inside.iter().chain(outside.iter()).map(count).sum();
        let slots: Arc<Vec<AtomicUsize>> = Arc::new((0..total).map(|_| AtomicUsize::new(0)).collect());
        let next = Arc::new(AtomicUsize::new(0));
        let rt = runtime(flavor);

        // Trees spawned from other threads, onto the runtime's handle.
        let handle = rt.handle().clone();
        let remote: Vec<_> = outside
            .into_iter()
            .map(|tree| {
                let (handle, next, slots) = (handle.clone(), next.clone(), slots.clone());
                std::thread::spawn(move || handle.spawn(run(tree, next, slots)))
            })
            .collect();
        let remote: Vec<_> = remote.into_iter().map(|t| t.join().unwrap()).collect();

        // Trees spawned from inside the runtime.
        let outputs = rt.block_on(async {
            let local: Vec<_> = inside
                .into_iter()
                .map(|tree| corio::spawn(run(tree, next.clone(), slots.clone())))
                .collect();
            let mut outputs = Vec::new();
            for h in local.into_iter().chain(remote) {
                outputs.push(h.await.unwrap());
            }
            outputs
        });
        drop(rt);

        prop_assert_eq!(next.load(SeqCst), total, "every task started");
        for (i, slot) in slots.iter().enumerate() {
            prop_assert_eq!(slot.load(SeqCst), 1, "task {} ran {} times", i, slot.load(SeqCst));
        }
        let mut sorted = outputs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), outputs.len(), "two handles returned the same output");
    }
}
