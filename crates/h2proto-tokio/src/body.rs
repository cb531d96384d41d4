//! Received message bodies: [`RecvBody`] hands DATA to the application and returns flow-control
//! credit only as the application consumes it, so a slow reader slows its sender (RFC 9113 §5.2).

use crate::chan;
use crate::driver::Command;
use crate::Error;
use bytes::Bytes;
use h2proto::StreamId;
use http::HeaderMap;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// What the connection task passes to a [`RecvBody`].
pub(crate) enum BodyEvent {
    /// A DATA payload and its flow-controlled length (padding included, §6.9.1).
    Data(Bytes, u32),
    Trailers(HeaderMap),
    End,
    Failed(Error),
}

/// The body of a received request or response: an [`http_body::Body`] of `Bytes`, with trailers.
///
/// Each DATA payload's flow-control credit goes back to the peer when `poll_frame` hands it out.
/// Dropping the body before its end stops the accounting: credit for anything still buffered or
/// arriving later is returned at once, so the connection window never leaks.
pub struct RecvBody {
    id: StreamId,
    rx: Option<chan::Receiver<BodyEvent>>,
    cmd: Option<mpsc::UnboundedSender<Command>>,
    remaining: Option<u64>,
    done: bool,
}

impl RecvBody {
    pub(crate) fn new(
        id: StreamId,
        rx: chan::Receiver<BodyEvent>,
        cmd: mpsc::UnboundedSender<Command>,
        content_length: Option<u64>,
    ) -> RecvBody {
        RecvBody {
            id,
            rx: Some(rx),
            cmd: Some(cmd),
            remaining: content_length,
            done: false,
        }
    }

    /// A body that has already ended (the headers carried END_STREAM).
    pub fn empty() -> RecvBody {
        RecvBody {
            id: StreamId(0),
            rx: None,
            cmd: None,
            remaining: Some(0),
            done: true,
        }
    }

    /// The stream this body arrives on (0 for [`RecvBody::empty`]).
    pub fn stream_id(&self) -> StreamId {
        self.id
    }

    fn finish(&mut self) {
        self.done = true;
        self.rx = None;
    }
}

impl http_body::Body for RecvBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        let Some(rx) = this.rx.as_mut() else {
            return Poll::Ready(None);
        };
        match rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(BodyEvent::Data(data, flow_len))) => {
                if let Some(cmd) = &this.cmd {
                    let _ = cmd.send(Command::Release {
                        id: this.id,
                        n: flow_len as usize,
                    });
                }
                if let Some(r) = this.remaining.as_mut() {
                    *r = r.saturating_sub(data.len() as u64);
                }
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Poll::Ready(Some(BodyEvent::Trailers(map))) => {
                this.finish();
                Poll::Ready(Some(Ok(Frame::trailers(map))))
            }
            Poll::Ready(Some(BodyEvent::End)) => {
                this.finish();
                Poll::Ready(None)
            }
            Poll::Ready(Some(BodyEvent::Failed(e))) => {
                this.finish();
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.finish();
                Poll::Ready(Some(Err(Error::ConnectionClosed)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        match self.remaining {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

impl Drop for RecvBody {
    /// Returns the credit of DATA still buffered here, and tells the connection task to stop
    /// delivering (it then returns credit for later DATA itself).
    fn drop(&mut self) {
        let (Some(mut rx), Some(cmd)) = (self.rx.take(), self.cmd.take()) else {
            return;
        };
        rx.close();
        let mut credit = 0usize;
        let mut ended = false;
        while let Some(ev) = rx.try_recv() {
            match ev {
                BodyEvent::Data(_, n) => credit += n as usize,
                _ => ended = true,
            }
        }
        if credit > 0 {
            let _ = cmd.send(Command::Release {
                id: self.id,
                n: credit,
            });
        }
        if !self.done && !ended {
            let _ = cmd.send(Command::DropBody { id: self.id });
        }
    }
}

impl std::fmt::Debug for RecvBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBody")
            .field("stream", &self.id)
            .field("done", &self.done)
            .finish()
    }
}
