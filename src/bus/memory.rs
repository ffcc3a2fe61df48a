//! The in-process bus: work queues and topic subscriptions inside one process, with the same
//! delivery semantics as the RabbitMQ bus (ack, nack with requeue, redelivery of abandoned
//! deliveries, competing consumers, topic copies).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{topic_matches, Acker, Bus, BusError, BusResult, Delivery, Route, Subscription};

struct Pending {
    payload: Vec<u8>,
    redelivered: bool,
}

/// One queue: a work queue, or the private queue behind one topic subscription.
#[derive(Default)]
struct QueueState {
    ready: Mutex<VecDeque<Pending>>,
    notify: Notify,
}

impl QueueState {
    fn push_back(&self, payload: Vec<u8>) {
        if let Ok(mut ready) = self.ready.lock() {
            ready.push_back(Pending {
                payload,
                redelivered: false,
            });
        }
        self.notify.notify_one();
    }

    fn requeue(&self, payload: Vec<u8>) {
        if let Ok(mut ready) = self.ready.lock() {
            ready.push_front(Pending {
                payload,
                redelivered: true,
            });
        }
        self.notify.notify_one();
    }

    fn pop(&self) -> Option<Pending> {
        self.ready.lock().ok()?.pop_front()
    }
}

struct Binding {
    id: u64,
    pattern: String,
    queue: Arc<QueueState>,
}

#[derive(Default)]
struct Inner {
    queues: Mutex<HashMap<String, Arc<QueueState>>>,
    bindings: Mutex<Vec<Binding>>,
    next_binding: std::sync::atomic::AtomicU64,
}

impl Inner {
    fn queue(&self, name: &str) -> BusResult<Arc<QueueState>> {
        let mut queues = self.queues.lock().map_err(poisoned)?;
        Ok(Arc::clone(queues.entry(name.to_owned()).or_default()))
    }
}

fn poisoned<T>(_: T) -> BusError {
    BusError::Unavailable(anyhow::anyhow!("in-process bus lock poisoned"))
}

/// The in-process [`Bus`]. Cloning shares the same bus.
#[derive(Clone, Default)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

impl MemoryBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Messages waiting in a work queue (for metrics and tests).
    pub fn queue_depth(&self, name: &str) -> usize {
        self.inner
            .queues
            .lock()
            .ok()
            .and_then(|q| {
                q.get(name)
                    .and_then(|s| s.ready.lock().ok().map(|r| r.len()))
            })
            .unwrap_or(0)
    }
}

struct MemoryAcker {
    queue: Arc<QueueState>,
    payload: Vec<u8>,
}

#[async_trait]
impl Acker for MemoryAcker {
    async fn ack(self: Box<Self>) -> BusResult<()> {
        Ok(())
    }

    async fn nack(self: Box<Self>, requeue: bool) -> BusResult<()> {
        if requeue {
            self.queue.requeue(self.payload);
        }
        Ok(())
    }

    fn abandon(self: Box<Self>) {
        self.queue.requeue(self.payload);
    }
}

/// Removes a topic binding when its subscription stream is dropped (auto-delete queue).
struct BindingGuard {
    inner: Weak<Inner>,
    id: u64,
}

impl Drop for BindingGuard {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            if let Ok(mut bindings) = inner.bindings.lock() {
                bindings.retain(|b| b.id != self.id);
            }
        }
    }
}

fn stream_of(queue: Arc<QueueState>, guard: Option<BindingGuard>) -> Subscription {
    Box::pin(futures_util::stream::unfold(
        (queue, guard),
        |(queue, guard)| async move {
            loop {
                if let Some(p) = queue.pop() {
                    let acker = Box::new(MemoryAcker {
                        queue: Arc::clone(&queue),
                        payload: p.payload.clone(),
                    });
                    let delivery = Delivery::new(p.payload, p.redelivered, acker);
                    return Some((delivery, (queue, guard)));
                }
                // A permit stored by notify_one between pop() and here wakes us at once.
                queue.notify.notified().await;
            }
        },
    ))
}

#[async_trait]
impl Bus for MemoryBus {
    async fn ping(&self) -> BusResult<()> {
        self.inner.queues.lock().map(|_| ()).map_err(poisoned)
    }

    async fn publish(&self, route: &Route, payload: Vec<u8>) -> BusResult<()> {
        match route {
            Route::Queue(name) => self.inner.queue(name)?.push_back(payload),
            Route::Topic(key) => {
                let targets: Vec<Arc<QueueState>> = self
                    .inner
                    .bindings
                    .lock()
                    .map_err(poisoned)?
                    .iter()
                    .filter(|b| topic_matches(&b.pattern, key))
                    .map(|b| Arc::clone(&b.queue))
                    .collect();
                for queue in targets {
                    queue.push_back(payload.clone());
                }
            }
        }
        Ok(())
    }

    async fn publish_delayed(
        &self,
        queue: &str,
        payload: Vec<u8>,
        delay: std::time::Duration,
    ) -> BusResult<()> {
        // Like everything on the in-process bus this lives only as long as the process; the
        // store outbox is what survives a crash.
        let queue = self.inner.queue(queue)?;
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.push_back(payload);
        });
        Ok(())
    }

    async fn consume(&self, queue: &str) -> BusResult<Subscription> {
        Ok(stream_of(self.inner.queue(queue)?, None))
    }

    async fn subscribe_topic(&self, pattern: &str) -> BusResult<Subscription> {
        let id = self
            .inner
            .next_binding
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let queue = Arc::new(QueueState::default());
        self.inner.bindings.lock().map_err(poisoned)?.push(Binding {
            id,
            pattern: pattern.to_owned(),
            queue: Arc::clone(&queue),
        });
        let guard = BindingGuard {
            inner: Arc::downgrade(&self.inner),
            id,
        };
        Ok(stream_of(queue, Some(guard)))
    }
}
