//! The runtime's driver: the I/O reactor and the timer, turned from one place.
//!
//! Parking a runtime thread means "block in the OS event queue until an event, the next timer
//! deadline or an unpark", then fire the due timers. When I/O is disabled a plain
//! [`ParkThread`] stands in for the event queue. Only one thread at a time holds the
//! [`Driver`]; everybody else reaches it through the cloneable [`Handle`].

use super::park::ParkThread;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// Which drivers a runtime enables (from the `Builder`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cfg {
    pub(crate) enable_io: bool,
    pub(crate) enable_time: bool,
    pub(crate) event_capacity: usize,
}

enum Park {
    Io(crate::io::driver::Driver),
    Thread(ParkThread),
}

/// The parkable driver stack; owned by whichever thread parks in it.
pub(crate) struct Driver {
    park: Park,
}

/// Shared access to the drivers: registration, timers, unpark.
#[derive(Clone)]
pub(crate) struct Handle {
    /// The reactor, when I/O is enabled.
    pub(crate) io: Option<Arc<crate::io::driver::Handle>>,
    /// The timer, when time is enabled.
    pub(crate) time: Option<Arc<crate::time::driver::Handle>>,
    /// Stands in for the reactor's waker when I/O is disabled.
    park_thread: Option<ParkThread>,
}

impl Driver {
    pub(crate) fn new(cfg: Cfg) -> io::Result<(Driver, Handle)> {
        let (park, io, park_thread) = if cfg.enable_io {
            let (driver, handle) = crate::io::driver::Driver::new(cfg.event_capacity)?;
            (Park::Io(driver), Some(Arc::new(handle)), None)
        } else {
            let park = ParkThread::new();
            (Park::Thread(park.clone()), None, Some(park))
        };
        let time = if cfg.enable_time {
            let unpark: Box<dyn Fn() + Send + Sync> = match (&io, &park_thread) {
                (Some(io), _) => {
                    let io = Arc::downgrade(io);
                    Box::new(move || {
                        if let Some(io) = io.upgrade() {
                            io.unpark()
                        }
                    })
                }
                (None, Some(p)) => {
                    let p = p.clone();
                    Box::new(move || p.unpark())
                }
                (None, None) => unreachable!("one of the two park mechanisms always exists"),
            };
            Some(Arc::new(crate::time::driver::Handle::new(unpark)))
        } else {
            None
        };
        Ok((
            Driver { park },
            Handle {
                io,
                time,
                park_thread,
            },
        ))
    }

    /// Blocks until an I/O event, `timeout`, the next timer deadline or an unpark; then fires
    /// due timers. Returns the number of I/O events dispatched.
    pub(crate) fn park(&mut self, handle: &Handle, timeout: Option<Duration>) -> usize {
        let timeout = match (timeout, handle.time.as_ref().and_then(|t| t.next_timeout())) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let events = match &mut self.park {
            Park::Io(driver) => {
                let io = handle
                    .io
                    .as_ref()
                    .expect("an I/O driver always has a handle");
                driver.turn(io, timeout)
            }
            Park::Thread(park) => {
                park.park_timeout(timeout);
                0
            }
        };
        if let Some(time) = &handle.time {
            time.process();
        }
        events
    }
}

impl Handle {
    /// Wakes the thread parked in the driver.
    pub(crate) fn unpark(&self) {
        if let Some(io) = &self.io {
            io.unpark();
        } else if let Some(park) = &self.park_thread {
            park.unpark();
        }
    }

    /// Runtime shutdown: every timer fires and every I/O resource reports the shutdown.
    pub(crate) fn shutdown(&self) {
        if let Some(time) = &self.time {
            time.shutdown();
        }
        if let Some(io) = &self.io {
            io.shutdown();
        }
    }
}
