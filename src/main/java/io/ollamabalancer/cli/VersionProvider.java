package io.ollamabalancer.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Prints the version for {@code --version}, read from the {@code pom.properties} Maven packs into every jar, so
 * the number lives only in {@code pom.xml}. Running from a class directory (IDE, tests) has no jar and says so.
 * Stateless.
 */
final class VersionProvider implements CommandLine.IVersionProvider {
    private static final String POM_PROPERTIES = "/META-INF/maven/io.ollamabalancer/ollama-balancer/pom.properties";

    @Override
    public String[] getVersion() {
        return new String[] {
            "ollama-balancer " + version(),
            "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
        };
    }

    static String version() {
        try (InputStream in = VersionProvider.class.getResourceAsStream(POM_PROPERTIES)) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.isBlank()) {
                    return v;
                }
            }
        } catch (IOException ignored) {
            // fall through: a version is nice to have, never a reason to fail
        }
        return "(development build)";
    }
}
