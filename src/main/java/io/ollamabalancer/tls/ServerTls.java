package io.ollamabalancer.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.config.ConfigWatcher;
import io.ollamabalancer.metrics.CounterFamily;
import io.ollamabalancer.metrics.PrometheusText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;

/**
 * HTTPS on the client listener: the certificate in force, a new {@link SslHandler} from it for each new connection,
 * the reload of the pair when either file changes, and the counts {@code /metrics} shows. A reload only changes what
 * new connections get; open connections keep the engine (and certificate) they were made with. A new pair that does
 * not load (missing, malformed, key and certificate not matching) is logged once and the one in force stays.
 *
 * <p>Thread-safe: the pair in force is a volatile reference, written by the watchers' threads and read on the event
 * loops (one read per new connection); the counters are lock-free.
 */
public final class ServerTls {
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

    private final Path certificateFile;
    private final Path keyFile;
    private final long handshakeTimeoutMillis;
    private final CounterFamily handshakes = new CounterFamily(8, "result");
    private final CounterFamily reloads = new CounterFamily(4, "result");
    private volatile ServerCertificate current;

    private ServerTls(Path certificateFile, Path keyFile, ServerCertificate first, Duration handshakeTimeout) {
        this.certificateFile = certificateFile;
        this.keyFile = keyFile;
        this.current = first;
        this.handshakeTimeoutMillis = Math.max(1, handshakeTimeout.toMillis());
    }

    /**
     * The listener's TLS from {@code --tls-cert} and {@code --tls-key}, or {@code null} when neither is set (plain
     * HTTP). The handshake must finish within {@code --header-timeout}.
     *
     * @throws ConfigException when only one of the two is set, or the pair does not load
     */
    public static ServerTls of(BalancerConfig config) {
        Path cert = config.tlsCertFile();
        Path key = config.tlsKeyFile();
        if (cert == null && key == null) {
            return null;
        }
        if (cert == null || key == null) {
            throw new ConfigException(cert == null ? "--tls-key is set but --tls-cert is not; HTTPS needs both"
                    : "--tls-cert is set but --tls-key is not; HTTPS needs both");
        }
        ServerCertificate first = ServerCertificate.read(cert, key);
        log.info("HTTPS with {} ({} provider)", first, TlsContexts.provider());
        return new ServerTls(cert, key, first, config.headerTimeout());
    }

    /** A new server-side handler for a new connection, from the pair in force now. */
    public SslHandler newHandler(ByteBufAllocator alloc) {
        SslHandler h = current.context().newHandler(alloc);
        h.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
        return h;
    }

    /** How long a client has to complete the handshake (and to start it). */
    public long handshakeTimeoutMillis() {
        return handshakeTimeoutMillis;
    }

    /** The pair in force (for tests and the status line). */
    public ServerCertificate current() {
        return current;
    }

    /** Counts one handshake's outcome: {@code ok}, {@code failed}, {@code timeout} or {@code plaintext}. */
    public void handshake(String result) {
        handshakes.add(1, result);
    }

    /** Handshakes so far with that outcome. */
    public long handshakes(String result) {
        return handshakes.get(result);
    }

    /** Adds the handshake and reload counters to {@code /metrics}. */
    public void exportTo(PrometheusText prometheus) {
        prometheus.counter("tls_handshakes_total",
                "TLS handshakes on the client listener by result (ok, failed, timeout, plaintext: plain HTTP sent "
                        + "to the HTTPS port).", handshakes);
        prometheus.counter("tls_certificate_reloads_total",
                "Reloads of --tls-cert/--tls-key by result (ok, rejected: the old pair stayed).", reloads);
    }

    /**
     * Watches both files (either may change first; each watcher reads the pair) and swaps the pair in force when a
     * new valid one settles. Closing the result stops watching.
     */
    public AutoCloseable watch(ConfigWatcher.Options options) {
        Function<Path, ServerCertificate> loader = ignored -> {
            try {
                return ServerCertificate.read(certificateFile, keyFile);
            } catch (ConfigException e) {
                reloads.add(1, "rejected");
                throw e;
            }
        };
        ConfigWatcher<ServerCertificate> onCert = ConfigWatcher.watch(certificateFile, current, loader, this::use,
                ServerTls::describe, "TLS certificate", options);
        ConfigWatcher<ServerCertificate> onKey = ConfigWatcher.watch(keyFile, current, loader, this::use,
                ServerTls::describe, "TLS certificate", options);
        return () -> {
            onCert.close();
            onKey.close();
        };
    }

    private void use(ServerCertificate next) {
        synchronized (this) { // both watchers may see the same new pair; it is swapped in once
            if (next.equals(current)) {
                return;
            }
            current = next;
        }
        reloads.add(1, "ok");
        log.info("TLS certificate reloaded: new connections get {}", next);
    }

    private static String describe(ServerCertificate before, ServerCertificate next) {
        return before + " -> " + next;
    }
}
