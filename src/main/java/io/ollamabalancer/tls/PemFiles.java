package io.ollamabalancer.tls;

import io.ollamabalancer.config.ConfigException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads PEM files for the TLS settings and turns what goes wrong into one readable line (a {@link ConfigException}
 * naming the flag and the file). Stateless; blocking file reads, so start-up and the watcher's thread only.
 */
final class PemFiles {

    private PemFiles() {
    }

    /** The file's bytes; a missing or unreadable file is a {@link ConfigException} naming {@code flag}. */
    static byte[] read(Path file, String flag) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(flag + " " + file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(flag + " " + file + ": cannot read it (" + reason(e) + ")");
        }
    }

    /** The X.509 certificates in a PEM file, in file order; none, or a malformed one, is a {@link ConfigException}. */
    static X509Certificate[] certificates(Path file, String flag) {
        return certificates(read(file, flag), flag + " " + file);
    }

    static X509Certificate[] certificates(byte[] pem, String where) {
        List<X509Certificate> out = new ArrayList<>();
        try {
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem))) {
                if (c instanceof X509Certificate x) {
                    out.add(x);
                }
            }
        } catch (CertificateException e) {
            throw new ConfigException(where + ": not a PEM certificate (" + reason(e) + ")");
        }
        if (out.isEmpty()) {
            throw new ConfigException(where + ": holds no certificate (expected -----BEGIN CERTIFICATE-----)");
        }
        return out.toArray(new X509Certificate[0]);
    }

    /** The innermost useful message of a failure, on one line. */
    static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t
                && (t.getMessage() == null || t.getMessage().startsWith(t.getCause().getClass().getName()))) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return (m == null || m.isBlank() ? t.getClass().getSimpleName() : m).replace('\n', ' ');
    }
}
