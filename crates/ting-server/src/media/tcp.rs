//! ICE-TCP (RFC 6544): media over TCP for participants whose network blocks UDP.
//!
//! The server announces a passive TCP host candidate next to its UDP one. Each accepted
//! connection carries RFC 4571 frames — a 16-bit big-endian length, then one STUN, DTLS or
//! SRTP packet — which this module turns into [`TcpEvent`]s for the media task; the task answers
//! through the connection's writer channel. A connection whose first frame no meeting accepts is
//! closed by the task (it drops the writer), as is one that stays silent after connecting.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{self, Receiver, Sender, UnboundedSender};

/// Most concurrent media TCP connections.
pub(crate) const MAX_CONNECTIONS: usize = 1024;
/// Frames queued towards one connection before further ones are dropped (media is
/// loss-tolerant; a slow TCP peer must not hold up the media task).
pub(crate) const WRITE_QUEUE: usize = 512;
/// A connection must send its first frame within this time.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// What the connections tell the media task.
#[derive(Debug)]
pub(crate) enum TcpEvent {
    /// A connection opened; frames for `peer` go to `writer`.
    Opened {
        peer: SocketAddr,
        writer: Sender<Vec<u8>>,
    },
    /// One frame arrived from `peer`.
    Frame { peer: SocketAddr, bytes: Vec<u8> },
    /// The connection to `peer` closed.
    Closed { peer: SocketAddr },
}

/// Accepts connections on `listener` until the media task goes away.
pub(crate) async fn accept_loop(listener: TcpListener, events: UnboundedSender<TcpEvent>) {
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "media TCP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if events.is_closed() {
            return;
        }
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let (writer, rx) = mpsc::channel(WRITE_QUEUE);
        if events.send(TcpEvent::Opened { peer, writer }).is_err() {
            return;
        }
        let events = events.clone();
        let open = open.clone();
        tokio::spawn(async move {
            serve(stream, peer, rx, &events).await;
            let _ = events.send(TcpEvent::Closed { peer });
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Runs one connection: frames in to the task, frames from the task out, until either side
/// ends (the task ends it by dropping the writer).
async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    mut rx: Receiver<Vec<u8>>,
    events: &UnboundedSender<TcpEvent>,
) {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut seen_frame = false;
    let first_deadline = tokio::time::Instant::now() + FIRST_FRAME_TIMEOUT;
    loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(packet) = out else { return };
                let Some(framed) = frame(&packet) else { continue };
                if stream.write_all(&framed).await.is_err() {
                    return;
                }
            }
            read = stream.read(&mut chunk) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(bytes) = next_frame(&mut buf) {
                    seen_frame = true;
                    if events.send(TcpEvent::Frame { peer, bytes }).is_err() {
                        return;
                    }
                }
            }
            () = tokio::time::sleep_until(first_deadline), if !seen_frame => return,
        }
    }
}

/// RFC 4571 framing of one packet; `None` if it is too long for a 16-bit length.
pub(crate) fn frame(packet: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(packet.len()).ok()?;
    let mut out = Vec::with_capacity(packet.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(packet);
    Some(out)
}

/// Takes one complete frame off the front of `buf`, if there is one.
pub(crate) fn next_frame(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let len = usize::from(u16::from_be_bytes([*buf.first()?, *buf.get(1)?]));
    if buf.len() < 2 + len {
        return None;
    }
    let bytes = buf[2..2 + len].to_vec();
    buf.drain(..2 + len);
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_across_arbitrary_splits() {
        let packets: Vec<Vec<u8>> = vec![vec![0, 1, 2], vec![], vec![7; 1500], vec![9; 65535]];
        let stream: Vec<u8> = packets.iter().flat_map(|p| frame(p).unwrap()).collect();
        for split in [1, 2, 3, 1000, stream.len()] {
            let mut buf = Vec::new();
            let mut got = Vec::new();
            for piece in stream.chunks(split) {
                buf.extend_from_slice(piece);
                while let Some(f) = next_frame(&mut buf) {
                    got.push(f);
                }
            }
            assert_eq!(got, packets, "split {split}");
            assert!(buf.is_empty());
        }
        assert!(frame(&vec![0; 65536]).is_none());
    }

    #[tokio::test]
    async fn a_connection_delivers_frames_and_replies_and_closes_when_told() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(accept_loop(listener, tx));
        let mut client = TcpStream::connect(addr).await.unwrap();
        let writer = match rx.recv().await.unwrap() {
            TcpEvent::Opened { writer, .. } => writer,
            other => panic!("{other:?}"),
        };
        // One frame split over two writes arrives whole.
        let framed = frame(b"hello media").unwrap();
        client.write_all(&framed[..4]).await.unwrap();
        client.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        client.write_all(&framed[4..]).await.unwrap();
        match rx.recv().await.unwrap() {
            TcpEvent::Frame { bytes, .. } => assert_eq!(bytes, b"hello media"),
            other => panic!("{other:?}"),
        }
        writer.send(b"reply".to_vec()).await.unwrap();
        let mut got = [0u8; 7];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"\x00\x05reply");
        // Dropping the writer (the task's "not ours") closes the connection.
        drop(writer);
        assert!(matches!(rx.recv().await.unwrap(), TcpEvent::Closed { .. }));
        let mut rest = Vec::new();
        assert_eq!(client.read_to_end(&mut rest).await.unwrap(), 0);
    }
}
