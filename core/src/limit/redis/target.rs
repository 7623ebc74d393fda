//! Where a [`RedisStore`](super::RedisStore) connects: one Redis (`redis://`,
//! `rediss://`) or a Redis Cluster (a list of seed nodes), and the two kinds of
//! connection the store pools over either.
//!
//! TLS is rustls with certificate and host-name verification always on: the roots are
//! the system's trust store, or only the CA bundle in [`RedisOptions::ca_file`] when
//! one is given. The `#insecure` URL fragment (which would turn verification off) is
//! refused when the store is built, not discovered on the first request.
//!
//! In a cluster the client library routes each `EVALSHA` by its one key's slot,
//! follows `MOVED`/`ASK`, refreshes its slot map, and answers `NOSCRIPT` (a master
//! that never saw the script, e.g. a promoted replica) by loading the script on every
//! node and retrying.

use super::options::RedisOptions;
use redis::aio::MultiplexedConnection;
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConnection};
use redis::{
    AsyncConnectionConfig, Client, Cmd, Connection, ConnectionAddr, ConnectionInfo, ConnectionLike,
    IntoConnectionInfo, Pipeline, RedisError, RedisFuture, TlsCertificates, Value,
};
use std::time::Duration;

/// Why a store cannot be built; the message never quotes the URL (it may hold a
/// password).
pub(super) type BuildError = String;

/// A parsed, not yet dialled, Redis deployment.
pub(super) enum Target {
    Single(Client),
    Cluster(ClusterClient),
}

/// A blocking connection, pooled by the store for `check`.
pub(super) enum SyncConnection {
    Single(Connection),
    Cluster(Box<ClusterConnection>),
}

/// The shared connection `check_async` multiplexes every request over.
#[derive(Clone)]
pub(super) enum AsyncConnection {
    Single(MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

/// The URL shapes a message may show (never the URL given).
const URL_SHAPE: &str = "redis://[user:password@]host:port[/db] or rediss://...";

fn parse(url: &str) -> Result<ConnectionInfo, BuildError> {
    // Not the parser's message: it may quote the URL, password included.
    let info = url
        .into_connection_info()
        .map_err(|_| format!("invalid Redis URL (expected {URL_SHAPE})"))?;
    if let ConnectionAddr::TcpTls { insecure: true, .. } = info.addr {
        return Err(
            "`#insecure` turns certificate verification off and is refused; \
                    give the server's CA bundle as the CA file instead"
                .into(),
        );
    }
    if let ConnectionAddr::Unix(_) = info.addr {
        return Err(format!(
            "Unix socket URLs are not supported (expected {URL_SHAPE})"
        ));
    }
    Ok(info)
}

fn is_tls(info: &ConnectionInfo) -> bool {
    matches!(info.addr, ConnectionAddr::TcpTls { .. })
}

/// The CA bundle as `TlsCertificates`, or `None` for the system's roots.
fn certificates(options: &RedisOptions) -> Result<Option<TlsCertificates>, BuildError> {
    let Some(path) = &options.ca_file else {
        return Ok(None);
    };
    let pem = std::fs::read(path)
        .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
    if !pem
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(format!(
            "the CA file {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(Some(TlsCertificates {
        client_tls: None,
        root_cert: Some(pem),
    }))
}

/// rustls needs a process-wide crypto provider; install `ring` unless the host
/// installed one already (then theirs is used, which is what they asked for).
///
/// `ring` rather than `aws-lc-rs`: it builds with a plain C compiler (the wheels and
/// npm packages are built on stock CI images), and a host that wants post-quantum key
/// exchange installs the `aws-lc-rs` provider before opening the store.
#[allow(
    deprecated,
    reason = "rustls 0.23.48 deprecates ring's provider for lacking post-quantum key \
              exchange; see above for why it stays the fallback"
)]
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread installing one is fine: one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

impl Target {
    /// One Redis at `url`.
    pub(super) fn single(url: &str, options: &RedisOptions) -> Result<Target, BuildError> {
        let info = parse(url)?;
        if !is_tls(&info) {
            if options.ca_file.is_some() {
                return Err("a CA file was given but the URL is not rediss://".into());
            }
            return Client::open(info)
                .map(Target::Single)
                .map_err(|_| format!("invalid Redis URL (expected {URL_SHAPE})"));
        }
        ensure_crypto_provider();
        let certs = certificates(options)?.unwrap_or(TlsCertificates {
            client_tls: None,
            root_cert: None,
        });
        Client::build_with_tls(info, certs)
            .map(Target::Single)
            .map_err(|e| format!("cannot set up TLS for Redis: {}", e.detail().unwrap_or("")))
    }

    /// The Redis Cluster reachable through any of `urls` (seed nodes; the client
    /// discovers the rest). Every seed must use the same scheme and credentials.
    pub(super) fn cluster(urls: &[&str], options: &RedisOptions) -> Result<Target, BuildError> {
        if urls.is_empty() {
            return Err("a Redis Cluster needs at least one seed node URL".into());
        }
        let infos = urls
            .iter()
            .map(|u| parse(u))
            .collect::<Result<Vec<_>, _>>()?;
        let tls = infos.iter().filter(|i| is_tls(i)).count();
        if tls != 0 && tls != infos.len() {
            return Err("the cluster's seed URLs mix redis:// and rediss://".into());
        }
        if tls == 0 && options.ca_file.is_some() {
            return Err("a CA file was given but the cluster URLs are not rediss://".into());
        }
        if infos.iter().any(|i| i.redis.db != 0) {
            return Err("Redis Cluster has only database 0; drop the /db from the URLs".into());
        }
        // Enough retries for a MOVED then an ASK during a resharding; each attempt is
        // bounded by the timeouts, and a retry after `CLUSTERDOWN`/`TRYAGAIN` waits
        // at most one command timeout.
        let wait_ms = u64::try_from(options.command_timeout.as_millis()).unwrap_or(u64::MAX);
        let mut builder = ClusterClientBuilder::new(infos)
            .connection_timeout(options.connect_timeout)
            .response_timeout(options.command_timeout)
            .retries(2)
            .min_retry_wait(wait_ms.min(10))
            .max_retry_wait(wait_ms);
        if tls != 0 {
            ensure_crypto_provider();
            if let Some(certs) = certificates(options)? {
                builder = builder.certs(certs);
            }
        }
        builder.build().map(Target::Cluster).map_err(|e| {
            format!(
                "invalid Redis Cluster settings: {}",
                e.detail().unwrap_or("")
            )
        })
    }

    /// A blocking connection whose every read and write waits at most
    /// `command_timeout`.
    pub(super) fn connect(&self, options: &RedisOptions) -> Result<SyncConnection, RedisError> {
        let timeout = Some(options.command_timeout);
        match self {
            Target::Single(client) => {
                let con = client.get_connection_with_timeout(options.connect_timeout)?;
                con.set_read_timeout(timeout)?;
                con.set_write_timeout(timeout)?;
                Ok(SyncConnection::Single(con))
            }
            Target::Cluster(client) => {
                let con = client.get_connection()?;
                con.set_read_timeout(timeout)?;
                con.set_write_timeout(timeout)?;
                Ok(SyncConnection::Cluster(Box::new(con)))
            }
        }
    }

    /// The multiplexed connection for `check_async`.
    pub(super) async fn connect_async(
        &self,
        options: &RedisOptions,
    ) -> Result<AsyncConnection, RedisError> {
        match self {
            Target::Single(client) => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(options.connect_timeout)
                    .set_response_timeout(options.command_timeout);
                client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .map(AsyncConnection::Single)
            }
            Target::Cluster(client) => client
                .get_async_connection()
                .await
                .map(AsyncConnection::Cluster),
        }
    }

    /// Every key of this store (`warden:*`): `SCAN` on one Redis, `KEYS` on each
    /// master of a cluster (the client runs it on every master and joins the answers).
    pub(super) fn keys(&self, con: &mut SyncConnection) -> Result<Vec<String>, RedisError> {
        match con {
            SyncConnection::Single(c) => {
                redis::Commands::scan_match::<_, String>(c, "warden:*").map(Iterator::collect)
            }
            SyncConnection::Cluster(c) => redis::cmd("KEYS").arg("warden:*").query(&mut **c),
        }
    }
}

impl SyncConnection {
    pub(super) fn as_dyn(&mut self) -> &mut dyn ConnectionLike {
        match self {
            SyncConnection::Single(c) => c,
            SyncConnection::Cluster(c) => &mut **c,
        }
    }
}

impl redis::aio::ConnectionLike for AsyncConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            AsyncConnection::Single(c) => c.req_packed_command(cmd),
            AsyncConnection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            AsyncConnection::Single(c) => c.req_packed_commands(cmd, offset, count),
            AsyncConnection::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            AsyncConnection::Single(c) => c.get_db(),
            AsyncConnection::Cluster(c) => c.get_db(),
        }
    }
}

/// The bound on one check's wait that the store documents: connect, then the command,
/// then one retry on a fresh connection.
pub(super) fn budget(options: &RedisOptions) -> Duration {
    options.connect_timeout + 2 * options.command_timeout
}
