package io.ollamabalancer.tls;

import io.netty.handler.ssl.SslContext;
import io.ollamabalancer.config.ConfigException;

import javax.net.ssl.SSLException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;

/**
 * One loaded certificate chain and private key, and the server {@link SslContext} made from them. Immutable and
 * shared between threads. Two are equal when their files' bytes are (the context is derived), which is what a reload
 * compares: rewriting the same pair changes nothing.
 *
 * @param certificatePem the chain file's bytes
 * @param keyPem         the key file's bytes
 * @param context        the server context made from both
 * @param subject        the leaf certificate's subject, for log lines
 * @param notAfter       the leaf certificate's expiry
 */
public record ServerCertificate(byte[] certificatePem, byte[] keyPem, SslContext context, String subject,
                                Instant notAfter) {
    private static final String BEGIN_KEY = "-----BEGIN PRIVATE KEY-----";

    /**
     * Reads and checks a pair: both files PEM, the key PKCS#8 and matching the leaf certificate.
     *
     * @throws ConfigException one line naming the file and what is wrong with it
     */
    public static ServerCertificate read(Path certificate, Path key) {
        byte[] chain = PemFiles.read(certificate, "--tls-cert");
        byte[] keyBytes = PemFiles.read(key, "--tls-key");
        X509Certificate leaf = PemFiles.certificates(chain, "--tls-cert " + certificate)[0];
        if (!new String(keyBytes, StandardCharsets.US_ASCII).contains(BEGIN_KEY)) {
            throw new ConfigException("--tls-key " + key + ": expected a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----);"
                    + " convert one with: openssl pkcs8 -topk8 -nocrypt -in old.key -out " + key.getFileName());
        }
        if (!matches(leaf, keyBytes)) {
            throw new ConfigException("--tls-key " + key + ": is not the private key of the certificate in "
                    + certificate + " (" + leaf.getSubjectX500Principal().getName() + ")");
        }
        SslContext context;
        try {
            context = TlsContexts.server(chain, keyBytes);
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigException("--tls-cert " + certificate + " / --tls-key " + key + ": not a usable pair ("
                    + PemFiles.reason(e) + ")");
        }
        return new ServerCertificate(chain, keyBytes, context, leaf.getSubjectX500Principal().getName(),
                leaf.getNotAfter().toInstant());
    }

    /** Whether the key signs what the leaf certificate's public key verifies (any algorithm the JDK knows). */
    private static boolean matches(X509Certificate leaf, byte[] keyPem) {
        String text = new String(keyPem, StandardCharsets.US_ASCII);
        int from = text.indexOf(BEGIN_KEY) + BEGIN_KEY.length();
        int to = text.indexOf("-----END PRIVATE KEY-----", from);
        if (to < 0) {
            return false;
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(text.substring(from, to));
            PublicKey pub = leaf.getPublicKey();
            PrivateKey priv = KeyFactory.getInstance(pub.getAlgorithm()).generatePrivate(new PKCS8EncodedKeySpec(der));
            String algorithm = switch (pub.getAlgorithm()) {
                case "RSA" -> "SHA256withRSA";
                case "EC" -> "SHA256withECDSA";
                default -> pub.getAlgorithm(); // Ed25519, Ed448
            };
            byte[] probe = "ollama-balancer key check".getBytes(StandardCharsets.US_ASCII);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(priv);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(pub);
            verify.update(probe);
            return verify.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ServerCertificate other && Arrays.equals(certificatePem, other.certificatePem)
                && Arrays.equals(keyPem, other.keyPem);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(certificatePem) + Arrays.hashCode(keyPem);
    }

    @Override
    public String toString() {
        return subject + " (valid until " + notAfter + ")";
    }
}
