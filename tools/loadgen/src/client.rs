//! A JSON-over-HTTP/1.1 client on `reqwest`, for the load tool and for the
//! server's black-box tests (`chaos`, `resume`, `hostile`): one keep-alive
//! pool shared by every clone, every request bounded by a deadline, and the
//! body read whole into an [`Answer`].

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What went wrong below HTTP (connection refused, reset, timed out), or
/// before a request could be sent.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid request: {0}")]
    Request(String),
    #[error("transport: {0}")]
    Transport(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl ClientError {
    fn from_reqwest(e: reqwest::Error, timeout: Duration) -> Self {
        if e.is_timeout() {
            ClientError::Timeout(timeout)
        } else if e.is_builder() {
            ClientError::Request(e.to_string())
        } else {
            // `{:#}`-style detail: reqwest's own message is only "error
            // sending request"; the source says refused, reset, ...
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            ClientError::Transport(text)
        }
    }
}

/// One HTTP answer, its body read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as any JSON (`Null` when it is not JSON), for tests that
    /// look at a field or two of many shapes.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The body decoded into a known type.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    base: String,
    timeout: Duration,
}

impl HttpClient {
    /// A client for `base` (`http://127.0.0.1:3000`), each request bounded
    /// by `timeout`, keeping as many idle connections as it ever used.
    pub fn new(base: &str, timeout: Duration) -> Result<Self, ClientError> {
        Self::with_pool(base, timeout, usize::MAX)
    }

    /// As [`HttpClient::new`], keeping at most `idle` connections alive
    /// between requests: the load tool sizes it to its clients, each of
    /// which has at most one request in flight, so no client ever waits
    /// for a new connection once the pool is warm.
    pub fn with_pool(base: &str, timeout: Duration, idle: usize) -> Result<Self, ClientError> {
        let inner = reqwest::Client::builder()
            // Loopback only: a proxy from the environment must not see it.
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(idle)
            .pool_idle_timeout(Duration::from_secs(30))
            .timeout(timeout)
            .build()
            .map_err(|e| ClientError::Request(e.to_string()))?;
        Ok(Self {
            inner,
            base: base.trim_end_matches('/').to_owned(),
            timeout,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn get(&self, path: &str) -> Result<Answer, ClientError> {
        self.send(Method::GET, path, None).await
    }

    pub async fn delete(&self, path: &str) -> Result<Answer, ClientError> {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn post_json<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<Answer, ClientError> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Request(e.to_string()))?;
        self.send(Method::POST, path, Some(body.into())).await
    }

    pub async fn put_json<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<Answer, ClientError> {
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Request(e.to_string()))?;
        self.send(Method::PUT, path, Some(body.into())).await
    }

    /// Sends raw bytes as JSON (for malformed-body tests).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Answer, ClientError> {
        let mut request = self.inner.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let fail = |e| ClientError::from_reqwest(e, self.timeout);
        let response = request.send().await.map_err(fail)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(fail)?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A one-connection HTTP/1.1 server that answers every request on it
    /// with the same small JSON body, and counts the requests it saw.
    async fn stub() -> (String, tokio::task::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let handle = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut seen = 0;
            let mut buf = vec![0u8; 4096];
            loop {
                let n = match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return seen,
                    Ok(n) => n,
                };
                seen += String::from_utf8_lossy(&buf[..n])
                    .matches("HTTP/1.1\r\n")
                    .count();
                let body = r#"{"trip_id":"t-1"}"#;
                let reply = format!(
                    "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if socket.write_all(reply.as_bytes()).await.is_err() {
                    return seen;
                }
            }
        });
        (format!("http://{addr}"), handle)
    }

    #[tokio::test]
    async fn sequential_requests_reuse_one_kept_alive_connection() {
        let (base, server) = stub().await;
        let client = HttpClient::with_pool(&base, Duration::from_secs(5), 1).expect("client");
        for _ in 0..3 {
            let answer = client
                .post_json("/api/trips/plan", &serde_json::json!({"query": "x"}))
                .await
                .expect("answer");
            assert_eq!(answer.status, StatusCode::ACCEPTED);
            #[derive(serde::Deserialize)]
            struct Accepted {
                trip_id: String,
            }
            assert_eq!(answer.decode::<Accepted>().expect("json").trip_id, "t-1");
        }
        drop(client);
        // The stub accepts one connection only: three answers mean the
        // pool kept it alive.
        assert_eq!(server.await.expect("stub"), 3);
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_transport_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let client =
            HttpClient::new(&format!("http://{addr}"), Duration::from_secs(5)).expect("client");
        match client.get("/healthz").await {
            Err(ClientError::Transport(_)) => {}
            other => panic!("expected a transport error, got {other:?}"),
        }
    }
}
