//! A lean HTTP/1.1 client for load generators: keep-alive connections to
//! one server, each carrying one request at a time, written with `hyper`
//! directly.
//!
//! A load generator shares the cores with the servers it measures, so what
//! it spends is taken from them. reqwest, made for general use, spent about
//! half of `bench-ingest`'s own CPU on parsing each request's URL (host,
//! IDNA, percent-encoding) and on its connection pool; here the server's
//! address is resolved once and a request names only its path.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Connections to the server at one `http://host:port`, opened as more
/// requests are in flight at once and kept for the next ones.
#[derive(Debug, Clone)]
pub struct LoadClient {
    server: Arc<Server>,
}

#[derive(Debug)]
struct Server {
    address: SocketAddr,
    /// The `Host` of every request.
    host: HeaderValue,
    /// Open connections with no request in flight.
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

/// What the server answered.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

impl LoadClient {
    /// A client of the server at `base` (`http://host:port`, nothing after
    /// it); the host is resolved here, once.
    pub async fn new(base: &str) -> anyhow::Result<Self> {
        let authority = base
            .strip_prefix("http://")
            .with_context(|| format!("{base}: only http:// servers can be measured"))?
            .trim_end_matches('/');
        anyhow::ensure!(
            !authority.contains('/'),
            "{base}: give the server's address without a path"
        );
        let address = tokio::net::lookup_host(authority)
            .await
            .with_context(|| format!("resolving {authority}"))?
            .next()
            .with_context(|| format!("{authority} has no address"))?;
        Ok(Self {
            server: Arc::new(Server {
                address,
                host: HeaderValue::from_str(authority)?,
                idle: Mutex::default(),
            }),
        })
    }

    /// `POST`s the JSON `body` to `path`, with an `Idempotency-Key` if given.
    pub async fn post_json(
        &self,
        path: &str,
        idempotency_key: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(CONTENT_TYPE, "application/json");
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| format!("request to {path}: {error}"))?;
        self.send(request).await
    }

    /// `GET`s `path`.
    pub async fn get(&self, path: &str) -> Result<Answer, String> {
        let request = Request::builder()
            .uri(path)
            .body(Full::default())
            .map_err(|error| format!("request to {path}: {error}"))?;
        self.send(request).await
    }

    async fn send(&self, mut request: Request<Full<Bytes>>) -> Result<Answer, String> {
        request.headers_mut().insert(HOST, self.server.host.clone());
        let mut connection = match self.take_idle() {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        connection
            .ready()
            .await
            .map_err(|error| format!("connection lost: {error}"))?;
        let response = connection
            .send_request(request)
            .await
            .map_err(|error| format!("no answer: {error}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| format!("body: {error}"))?
            .to_bytes();
        // Only once the answer is read whole is the connection free again.
        self.lock_idle().push(connection);
        Ok(Answer { status, body })
    }

    /// An idle connection the server has not closed, if any.
    fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.lock_idle();
        std::iter::from_fn(|| idle.pop()).find(|connection| !connection.is_closed())
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<SendRequest<Full<Bytes>>>> {
        // A panic elsewhere leaves the list whole: it is only pushed and popped.
        self.server
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let address = self.server.address;
        let stream = TcpStream::connect(address)
            .await
            .map_err(|error| format!("connecting to {address}: {error}"))?;
        // Requests and answers are small and each waits for the other.
        stream
            .set_nodelay(true)
            .map_err(|error| format!("TCP_NODELAY: {error}"))?;
        let (connection, driver) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| format!("HTTP/1.1 handshake with {address}: {error}"))?;
        tokio::spawn(async move {
            // Ends when the connection closes; a failed request says why.
            let _ = driver.await;
        });
        Ok(connection)
    }
}
