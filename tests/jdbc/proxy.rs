//! A TCP proxy between Sluice and a database, so a test can break exactly
//! its own connections: take the proxy down (existing connections are cut,
//! new ones are closed at once, as if the server were gone) and up again,
//! and find the server-side sessions behind it to kill them there.

use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
struct State {
    down: bool,
    /// Live connections: their piping task and the local port of the
    /// proxy's own connection to the server (what the server sees).
    conns: Vec<(JoinHandle<()>, u16)>,
}

/// A running proxy to `127.0.0.1:<target>`.
pub struct Proxy {
    port: u16,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if shared.lock().unwrap().down {
                    drop(client);
                    continue;
                }
                let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)).await else {
                    continue;
                };
                let upstream = server.local_addr().map(|a| a.port()).unwrap_or(0);
                let task = tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                let mut s = shared.lock().unwrap();
                s.conns.retain(|(t, _)| !t.is_finished());
                s.conns.push((task, upstream));
            }
        });
        Proxy {
            port,
            state,
            accept,
        }
    }

    /// The port Sluice connects to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Down: every connection is cut and new ones are closed at once. Up:
    /// connections are piped to the server again.
    pub fn set_down(&self, down: bool) {
        let mut s = self.state.lock().unwrap();
        s.down = down;
        if down {
            for (t, _) in s.conns.drain(..) {
                t.abort();
            }
        }
    }

    /// The client ports the server sees for this proxy's live connections.
    pub fn upstream_ports(&self) -> Vec<u16> {
        let mut s = self.state.lock().unwrap();
        s.conns.retain(|(t, _)| !t.is_finished());
        s.conns.iter().map(|(_, p)| *p).collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.set_down(true);
    }
}
