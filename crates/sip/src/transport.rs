//! UDP and TCP on tokio: bytes in, bytes out, nothing else.
//!
//! Every datagram or stream frame received goes to one channel as
//! `(source, bytes)`. TCP connections are opened on the first message to an
//! address and accepted from peers; a stream is cut into messages by
//! [`take_frame`] using `Content-Length`.

use crate::endpoint::Transport;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// The largest message we accept (headers and body).
pub const MAX_MESSAGE: usize = 64 * 1024;

pub type Incoming = mpsc::Receiver<(SocketAddr, Vec<u8>)>;

/// Sends messages; dropping it stops the readers.
pub enum Sender {
    Udp(Arc<UdpSocket>, tokio::task::JoinHandle<()>),
    Tcp {
        incoming: mpsc::Sender<(SocketAddr, Vec<u8>)>,
        connections: HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>,
        accepted: mpsc::UnboundedReceiver<(SocketAddr, mpsc::UnboundedSender<Vec<u8>>)>,
        listener: tokio::task::JoinHandle<()>,
    },
}

impl Drop for Sender {
    fn drop(&mut self) {
        match self {
            Sender::Udp(_, reader) => reader.abort(),
            Sender::Tcp { listener, .. } => listener.abort(),
        }
    }
}

/// Binds `local` and starts reading.
pub async fn bind(
    local: SocketAddr,
    transport: Transport,
) -> io::Result<(Sender, SocketAddr, Incoming)> {
    let (tx, rx) = mpsc::channel(4096);
    match transport {
        Transport::Udp => {
            let socket = Arc::new(UdpSocket::bind(local).await?);
            let bound = socket.local_addr()?;
            let reader = tokio::spawn(read_datagrams(socket.clone(), tx));
            Ok((Sender::Udp(socket, reader), bound, rx))
        }
        Transport::Tcp => {
            let listener = TcpListener::bind(local).await?;
            let bound = listener.local_addr()?;
            let (accepted_tx, accepted) = mpsc::unbounded_channel();
            let incoming = tx.clone();
            let listener = tokio::spawn(async move {
                while let Ok((stream, peer)) = listener.accept().await {
                    let writer = spawn_connection(stream, peer, incoming.clone());
                    if accepted_tx.send((peer, writer)).is_err() {
                        break;
                    }
                }
            });
            let sender = Sender::Tcp {
                incoming: tx,
                connections: HashMap::new(),
                accepted,
                listener,
            };
            Ok((sender, bound, rx))
        }
    }
}

impl Sender {
    /// Sends one message. Over TCP a connection is opened if there is none.
    pub async fn send(&mut self, to: SocketAddr, bytes: Vec<u8>) {
        match self {
            Sender::Udp(socket, _) => {
                if let Err(e) = socket.send_to(&bytes, to).await {
                    tracing::warn!(%to, error = %e, "could not send a datagram");
                }
            }
            Sender::Tcp {
                incoming,
                connections,
                accepted,
                ..
            } => {
                while let Ok((peer, writer)) = accepted.try_recv() {
                    connections.insert(peer, writer);
                }
                let writer = connections
                    .entry(to)
                    .or_insert_with(|| connect(to, incoming.clone()));
                if writer.send(bytes.clone()).is_err() {
                    // The connection is gone: open a new one.
                    let writer = connect(to, incoming.clone());
                    let _ = writer.send(bytes);
                    connections.insert(to, writer);
                }
            }
        }
    }
}

async fn read_datagrams(socket: Arc<UdpSocket>, tx: mpsc::Sender<(SocketAddr, Vec<u8>)>) {
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, from)) => {
                if tx.send((from, buf[..n].to_vec())).await.is_err() {
                    return;
                }
            }
            // ICMP port unreachable shows up here on Linux; the socket is fine.
            Err(e) => tracing::debug!(error = %e, "receive error"),
        }
    }
}

/// A writer for a new outgoing connection; the connect happens in its task.
fn connect(
    to: SocketAddr,
    incoming: mpsc::Sender<(SocketAddr, Vec<u8>)>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let (writer, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        let stream = match TcpStream::connect(to).await {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(%to, error = %e, "could not connect");
                return;
            }
        };
        let _ = stream.set_nodelay(true);
        let (read, mut write) = stream.into_split();
        tokio::spawn(read_stream(read, to, incoming));
        while let Some(bytes) = queue.recv().await {
            if write.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    writer
}

fn spawn_connection(
    stream: TcpStream,
    peer: SocketAddr,
    incoming: mpsc::Sender<(SocketAddr, Vec<u8>)>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    tokio::spawn(read_stream(read, peer, incoming));
    let (writer, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        while let Some(bytes) = queue.recv().await {
            if write.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    writer
}

async fn read_stream(
    mut read: tokio::net::tcp::OwnedReadHalf,
    peer: SocketAddr,
    incoming: mpsc::Sender<(SocketAddr, Vec<u8>)>,
) {
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        match read.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        loop {
            match take_frame(&mut buf) {
                Ok(Some(message)) => {
                    if incoming.send((peer, message)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "closing a connection that sent a bad frame");
                    return;
                }
            }
        }
    }
}

/// Why a stream cannot be cut into messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("headers longer than {MAX_MESSAGE} bytes")]
    TooLong,
    #[error("missing or bad Content-Length")]
    Length,
}

/// Takes the first whole message off `buf` (`None`: not all there yet).
/// Blank lines between messages (keepalives, RFC 5626) are skipped.
pub fn take_frame(buf: &mut Vec<u8>) -> Result<Option<Vec<u8>>, FrameError> {
    let start = buf
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(buf.len());
    buf.drain(..start);
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_MESSAGE {
            Err(FrameError::TooLong)
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| FrameError::Length)?;
    let length = head
        .split("\r\n")
        .skip(1)
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            let name = name.trim();
            (name.eq_ignore_ascii_case("Content-Length") || name.eq_ignore_ascii_case("l"))
                .then(|| value.trim())
        })
        .ok_or(FrameError::Length)?
        .parse::<usize>()
        .map_err(|_| FrameError::Length)?;
    let total = end + 4 + length;
    if total > MAX_MESSAGE {
        return Err(FrameError::TooLong);
    }
    if buf.len() < total {
        return Ok(None);
    }
    Ok(Some(buf.drain(..total).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_by_content_length() {
        let one = b"BYE sip:a@h SIP/2.0\r\nContent-Length: 3\r\n\r\nabc";
        let two = b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n";
        let mut buf = b"\r\n\r\n".to_vec();
        buf.extend_from_slice(one);
        buf.extend_from_slice(&two[..10]);
        assert_eq!(take_frame(&mut buf).unwrap().unwrap(), one);
        assert_eq!(take_frame(&mut buf).unwrap(), None);
        buf.extend_from_slice(&two[10..]);
        assert_eq!(take_frame(&mut buf).unwrap().unwrap(), two);
        assert!(buf.is_empty());
        let mut bad = b"OPTIONS sip:a@h SIP/2.0\r\nVia: x\r\n\r\n".to_vec();
        assert_eq!(take_frame(&mut bad), Err(FrameError::Length));
        let mut long = vec![b'a'; MAX_MESSAGE + 1];
        assert_eq!(take_frame(&mut long), Err(FrameError::TooLong));
    }
}
