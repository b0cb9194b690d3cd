//! One client connection: hyper serves it (HTTP/1.1, or HTTP/2 with prior
//! knowledge, as `axum::serve` did), while a watchdog closes it when the
//! client is too slow to send a request's head or leaves it idle.
//!
//! Why not hyper's own `http1::Builder::header_read_timeout`: hyper (1.x)
//! starts that timer whenever the connection waits for a head, so it also
//! ends every keep-alive connection idle for that long; a 30 s header
//! timeout would make a 60 s idle timeout meaningless, and it does nothing
//! for HTTP/2. Here both are measured from what the socket and the
//! requests do ([`Activity`]).

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Sleep;

use super::unread::Answering;
use crate::config::ConnectionConfig;

/// After a request body was left unread, how long the closing connection
/// keeps reading (and dropping) what the client still sends once it has
/// paused, and at most in all. nginx's `lingering_timeout` and
/// `lingering_time` are 5 s and 30 s.
const LINGER_QUIET: Duration = Duration::from_secs(2);
const LINGER_MAX: Duration = Duration::from_secs(30);

/// Serve `tcp` until the client or the watchdog ends it, or, once
/// `stopping` turns true (or its sender goes), until the request in
/// flight is answered.
pub(super) async fn serve<A: super::unread::App>(
    tcp: TcpStream,
    app: A,
    limits: ConnectionConfig,
    mut stopping: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched::new(tcp, activity.clone()));
    let service = TowerToHyperService::new(Answering::new(app, activity.clone(), &limits));
    let builder = Builder::new(TokioExecutor::new());
    let mut conn = pin!(builder.serve_connection_with_upgrades(io, service));
    let mut stop = pin!(async move {
        // A sender gone (the server task aborted) stops as well.
        let _ = stopping.wait_for(|stop| *stop).await;
    });
    let (header, idle) = (limits.header_read_timeout(), limits.idle_timeout());
    // Checked this often at least: a head may start while the watchdog
    // sleeps towards the idle deadline.
    let tick = header.into_iter().chain(idle).min().map(|t| t / 4);
    let mut stopped = false;
    let mut closing_idle: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let wake = [
            tick.map(|t| now + t),
            activity.head_deadline(header),
            idle_deadline(&activity, idle, closing_idle),
        ]
        .into_iter()
        .flatten()
        .min();
        let watchdog = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!("connection ended: {e}");
                }
                break;
            }
            () = &mut stop, if !stopped => {
                stopped = true;
                conn.as_mut().graceful_shutdown();
            }
            () = watchdog => {
                let now = Instant::now();
                if activity.head_deadline(header).is_some_and(|at| at <= now) {
                    tracing::debug!("closing a connection: request head not read in {header:?}");
                    break;
                }
                if idle_deadline(&activity, idle, closing_idle).is_some_and(|at| at <= now) {
                    if closing_idle.is_some() {
                        // Told to close an idle period ago and still
                        // silent: the client is gone or stuck.
                        break;
                    }
                    tracing::debug!("closing a connection idle for {idle:?}");
                    closing_idle = Some(now);
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// When the connection will have been idle too long; once told to close
/// for idleness (at `closing`), one idle period after that.
fn idle_deadline(
    activity: &Activity,
    idle: Option<Duration>,
    closing: Option<Instant>,
) -> Option<Instant> {
    let at = activity.idle_deadline(idle)?;
    Some(match (closing, idle) {
        (Some(since), Some(idle)) => at.max(since + idle),
        _ => at,
    })
}

/// What a connection has been doing, for its watchdog: updated by the
/// socket ([`Watched`]) and by [`Answering`] as requests come and go.
/// Times are milliseconds since the connection was accepted.
#[derive(Debug)]
pub(super) struct Activity {
    accepted: Instant,
    /// The last read or write that moved bytes.
    last_io: AtomicU64,
    /// One more than when the head being read began: the first byte read
    /// while no request was in flight, or our last write after it (a head
    /// waiting behind our answer is not the client's delay). 0: no head
    /// being read.
    head_since: AtomicU64,
    /// Requests handed to the application whose answer is not ready yet.
    in_flight: AtomicUsize,
    /// The connection speaks HTTP/2: no heads to time.
    http2: AtomicBool,
    /// A request body was left unread: close lingering (see [`Watched`]).
    linger: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Activity {
            accepted: Instant::now(),
            last_io: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            http2: AtomicBool::new(false),
            linger: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        self.accepted.elapsed().as_millis() as u64
    }

    fn at(&self, millis: u64) -> Instant {
        self.accepted + Duration::from_millis(millis)
    }

    fn read(&self) {
        let now = self.now();
        self.last_io.store(now, Relaxed);
        if self.in_flight.load(Relaxed) == 0 && self.head_since.load(Relaxed) == 0 {
            self.head_since.store(now + 1, Relaxed);
        }
    }

    fn wrote(&self) {
        let now = self.now();
        self.last_io.store(now, Relaxed);
        if self.head_since.load(Relaxed) != 0 {
            self.head_since.store(now + 1, Relaxed);
        }
    }

    /// A request's head has been read and handed to the application.
    pub(super) fn request_started(&self) {
        self.in_flight.fetch_add(1, Relaxed);
        self.head_since.store(0, Relaxed);
    }

    /// Its answer is ready (or the request was dropped).
    pub(super) fn request_answered(&self) {
        self.in_flight.fetch_sub(1, Relaxed);
    }

    /// Close lingering: a request body is left unread.
    pub(super) fn linger(&self) {
        self.linger.store(true, Relaxed);
    }

    /// When the head being read runs out of time, if one is.
    fn head_deadline(&self, timeout: Option<Duration>) -> Option<Instant> {
        let timeout = timeout?;
        let since = self.head_since.load(Relaxed);
        if since == 0 || self.in_flight.load(Relaxed) > 0 || self.http2.load(Relaxed) {
            return None;
        }
        Some(self.at(since - 1) + timeout)
    }

    /// When the connection will have been idle too long, if it is idle.
    fn idle_deadline(&self, timeout: Option<Duration>) -> Option<Instant> {
        let timeout = timeout?;
        if self.in_flight.load(Relaxed) > 0 {
            return None;
        }
        Some(self.at(self.last_io.load(Relaxed)) + timeout)
    }
}

/// The socket, telling [`Activity`] when bytes move. Its shutdown lingers
/// when a request body was left unread: having sent its answer and closed
/// its side, the server reads and drops what the client still sends until
/// the client closes too (or pauses [`LINGER_QUIET`], or [`LINGER_MAX`]
/// passes). Closing a socket with unread data makes the kernel answer with
/// a reset, which fails the client's pending writes and can destroy the
/// answer before the client reads it.
struct Watched {
    tcp: TcpStream,
    activity: Arc<Activity>,
    first_read: bool,
    write_closed: bool,
    lingering: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl Watched {
    fn new(tcp: TcpStream, activity: Arc<Activity>) -> Self {
        Watched {
            tcp,
            activity,
            first_read: true,
            write_closed: false,
            lingering: None,
        }
    }

    /// Read and drop until the client closes, errs, pauses or runs out of time.
    fn poll_discard(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let (until, quiet) = self.lingering.get_or_insert_with(|| {
            (
                Instant::now() + LINGER_MAX,
                Box::pin(tokio::time::sleep(LINGER_QUIET)),
            )
        });
        let mut buf = [0u8; 16 * 1024];
        loop {
            if Instant::now() >= *until {
                return Poll::Ready(());
            }
            let mut read = ReadBuf::new(&mut buf);
            match Pin::new(&mut self.tcp).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => return Poll::Ready(()),
                Poll::Ready(Ok(())) => quiet
                    .as_mut()
                    .reset(tokio::time::Instant::now() + LINGER_QUIET),
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => return quiet.as_mut().poll(cx),
            }
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.tcp).poll_read(cx, buf))?;
        let read = &buf.filled()[before..];
        if !read.is_empty() {
            if this.first_read {
                this.first_read = false;
                if read.starts_with(b"PRI * HTTP/2") {
                    this.activity.http2.store(true, Relaxed);
                }
            }
            this.activity.read();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.tcp).poll_write(cx, buf))?;
        if n > 0 {
            this.activity.wrote();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs))?;
        if n > 0 {
            this.activity.wrote();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if !this.write_closed {
            ready!(Pin::new(&mut this.tcp).poll_shutdown(cx))?;
            this.write_closed = true;
        }
        if this.activity.linger.load(Relaxed) {
            ready!(this.poll_discard(cx));
        }
        Poll::Ready(Ok(()))
    }
}
