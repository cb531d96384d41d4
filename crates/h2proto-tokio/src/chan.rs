//! A small unbounded single-producer channel for body events (connection task → body reader).
//!
//! Why not `tokio::sync::mpsc`: its unbounded channel allocates a 32-slot block up front, about
//! 3.5 KiB with the channel header for body events, and every open stream has one. This one is a
//! mutex around a queue that allocates only when events are queued: about 100 bytes per stream
//! while no DATA is waiting. Both ends are used by one task each, so the lock is uncontended.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

struct Shared<T> {
    queue: VecDeque<T>,
    waker: Option<Waker>,
    sender_alive: bool,
    receiver_closed: bool,
}

/// The sending half; dropping it ends the channel once the queue is drained.
pub(crate) struct Sender<T>(Arc<Mutex<Shared<T>>>);

/// The receiving half.
pub(crate) struct Receiver<T>(Arc<Mutex<Shared<T>>>);

/// A channel with nothing allocated but its shared state.
pub(crate) fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(Shared {
        queue: VecDeque::new(),
        waker: None,
        sender_alive: true,
        receiver_closed: false,
    }));
    (Sender(shared.clone()), Receiver(shared))
}

fn lock<T>(m: &Mutex<Shared<T>>) -> MutexGuard<'_, Shared<T>> {
    // A panic while holding the lock leaves the queue consistent (every operation is a single
    // push, pop or flag change), so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T> Sender<T> {
    /// Queues `value`; gives it back if the receiver was closed or dropped.
    pub(crate) fn send(&self, value: T) -> Result<(), T> {
        let waker = {
            let mut s = lock(&self.0);
            if s.receiver_closed {
                return Err(value);
            }
            s.queue.push_back(value);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut s = lock(&self.0);
            s.sender_alive = false;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The next value; `None` once the sender is gone and the queue is empty.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut s = lock(&self.0);
        if let Some(v) = s.queue.pop_front() {
            if s.queue.is_empty() {
                // A body that was read in a burst does not keep the burst's queue.
                s.queue.shrink_to(4);
            }
            return Poll::Ready(Some(v));
        }
        if !s.sender_alive {
            return Poll::Ready(None);
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next queued value, if any, without waiting.
    pub(crate) fn try_recv(&mut self) -> Option<T> {
        lock(&self.0).queue.pop_front()
    }

    /// Refuses further sends; what is queued can still be taken with `try_recv`.
    pub(crate) fn close(&mut self) {
        lock(&self.0).receiver_closed = true;
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut s = lock(&self.0);
        s.receiver_closed = true;
        s.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::noop_waker;

    #[test]
    fn values_in_order_then_end_when_sender_drops() {
        let (tx, mut rx) = unbounded();
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending());
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        drop(tx);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(2)));
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn closed_receiver_refuses_and_keeps_what_was_queued() {
        let (tx, mut rx) = unbounded();
        tx.send("a").unwrap();
        rx.close();
        assert_eq!(tx.send("b"), Err("b"));
        assert_eq!(rx.try_recv(), Some("a"));
        assert_eq!(rx.try_recv(), None);
        drop(rx);
        assert_eq!(tx.send("c"), Err("c"));
    }

    #[test]
    fn send_wakes_the_waiting_receiver() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let (tx, mut rx) = unbounded::<u8>();
        assert!(rx.poll_recv(&mut cx).is_pending());
        tx.send(7).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        drop(tx);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(7)));
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
    }
}
