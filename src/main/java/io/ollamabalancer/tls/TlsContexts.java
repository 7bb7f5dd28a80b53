package io.ollamabalancer.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.ollamabalancer.config.ConfigException;

import javax.net.ssl.SSLException;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;

/**
 * Builds the {@link SslContext}s the balancer uses, and chooses their engine: OpenSSL when netty-tcnative loads on
 * this platform (it is faster at both handshakes and bulk encryption), the JDK's provider otherwise, so the jar runs
 * anywhere. Stateless.
 */
public final class TlsContexts {
    /**
     * HTTP/1.1 is the only protocol offered through ALPN: the balancer and Ollama speak HTTP/1.1 (a client that
     * also offers h2 gets http/1.1; one that offers only h2 is refused by the handshake rather than misread).
     */
    private static final ApplicationProtocolConfig HTTP_1_1 = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_1_1);

    private TlsContexts() {
    }

    /** The engine in use: OpenSSL if netty-tcnative loaded (and can do ALPN), else the JDK's. */
    public static SslProvider provider() {
        return OpenSsl.isAvailable() && OpenSsl.isAlpnSupported() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** A server context for a PEM certificate chain and PKCS#8 key, offering HTTP/1.1 through ALPN. */
    static SslContext server(byte[] certificatePem, byte[] keyPem) throws SSLException {
        return SslContextBuilder.forServer(new ByteArrayInputStream(certificatePem), new ByteArrayInputStream(keyPem))
                .sslProvider(provider())
                .applicationProtocolConfig(HTTP_1_1)
                .build();
    }

    /**
     * The client context for {@code https://} backends: verifies the backend's certificate chain against
     * {@code caBundle} (PEM) or, when {@code null}, the JVM's default trust store, and its host name (so SNI and the
     * check both use the host in the backend's URL).
     *
     * @throws ConfigException when the bundle cannot be read or holds no certificate
     */
    public static SslContext backends(Path caBundle) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(provider())
                    .endpointIdentificationAlgorithm("HTTPS");
            if (caBundle != null) {
                b.trustManager(PemFiles.certificates(caBundle, "--backend-ca"));
            }
            return b.build();
        } catch (SSLException e) {
            throw new ConfigException("--backend-ca " + caBundle + ": cannot be used (" + PemFiles.reason(e) + ")");
        }
    }
}
