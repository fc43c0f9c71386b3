//! A fault-injecting TCP proxy for link faults between two nodes: pass
//! traffic through, add delay, drop everything (blackhole), cut every
//! connection (and refuse new ones), or close connections in the middle of
//! a frame, or deliver requests and lose the replies.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    /// Every chunk forwarded waits this long first.
    Delay(Duration),
    /// Existing connections are closed; new ones are closed at once.
    Cut,
    /// Connections forward this many more client bytes, then close.
    CloseAfter(u64),
    /// Connections stay open but every byte is dropped: the peer looks
    /// alive and never answers.
    Blackhole,
    /// Requests reach the server; its replies are dropped: the sender sees
    /// a timeout for a request that was applied.
    DropReplies,
    /// Requests reach the server; its replies are not read at all (a
    /// client that never reads): the server's socket buffers fill.
    StallReplies,
}

struct State {
    fault: Mutex<Fault>,
    conns: Mutex<Vec<(TcpStream, TcpStream)>>,
    budget: AtomicU64,
    stop: AtomicBool,
    /// Reply bytes dropped by `DropReplies` (proof the fault fired).
    dropped_replies: AtomicU64,
}

pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl Proxy {
    pub fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let addr = listener.local_addr().expect("proxy addr");
        let state = Arc::new(State {
            fault: Mutex::new(Fault::Pass),
            conns: Mutex::new(Vec::new()),
            budget: AtomicU64::new(u64::MAX),
            stop: AtomicBool::new(false),
            dropped_replies: AtomicU64::new(0),
        });
        let st = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if st.stop.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(client) = client else { continue };
                if *st.fault.lock().unwrap() == Fault::Cut {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                st.conns.lock().unwrap().push((c2, s2));
                pump(
                    st.clone(),
                    client.try_clone().ok(),
                    server.try_clone().ok(),
                    true,
                );
                pump(
                    st.clone(),
                    server.try_clone().ok(),
                    client.try_clone().ok(),
                    false,
                );
            }
        });
        Proxy { addr, state }
    }

    pub fn set(&self, fault: Fault) {
        *self.state.fault.lock().unwrap() = fault;
        match fault {
            Fault::Cut => {
                for (c, s) in self.state.conns.lock().unwrap().drain(..) {
                    let _ = c.shutdown(Shutdown::Both);
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
            Fault::CloseAfter(n) => self.state.budget.store(n, Ordering::SeqCst),
            _ => self.state.budget.store(u64::MAX, Ordering::SeqCst),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Reply bytes `DropReplies` has dropped so far.
    pub fn dropped_reply_bytes(&self) -> u64 {
        self.state.dropped_replies.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
        for (c, s) in self.state.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
            let _ = s.shutdown(Shutdown::Both);
        }
        let _ = TcpStream::connect(self.addr);
    }
}

fn pump(st: Arc<State>, from: Option<TcpStream>, to: Option<TcpStream>, from_client: bool) {
    let (Some(mut from), Some(mut to)) = (from, to) else {
        return;
    };
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            while !from_client
                && *st.fault.lock().unwrap() == Fault::StallReplies
                && !st.stop.load(Ordering::Relaxed)
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let fault = *st.fault.lock().unwrap();
            match fault {
                Fault::Cut => break,
                Fault::Delay(d) => std::thread::sleep(d),
                Fault::Blackhole => continue,
                Fault::DropReplies if !from_client => {
                    st.dropped_replies.fetch_add(n as u64, Ordering::SeqCst);
                    continue;
                }
                _ => {}
            }
            let mut n = n;
            let mut close = false;
            if from_client && matches!(fault, Fault::CloseAfter(_)) {
                let left = st.budget.load(Ordering::SeqCst);
                if (n as u64) >= left {
                    n = left as usize;
                    close = true;
                }
                st.budget.fetch_sub(n as u64, Ordering::SeqCst);
            }
            if to.write_all(&buf[..n]).is_err() || close {
                break;
            }
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    });
}
