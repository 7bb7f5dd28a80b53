package io.ollamabalancer.testing;

import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container;
import org.testcontainers.ollama.OllamaContainer;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Real Ollama servers in Docker for the {@code real-ollama} tests. The models are pulled once into an image committed
 * to the local Docker image store ({@link #CACHED_IMAGE}, named after the Ollama image and the models, so a change of
 * either makes a new one) and every later run starts from it without downloading anything. Containers get ephemeral
 * host ports, run unprivileged, and are removed when the JVM ends (Testcontainers' reaper) or when closed; only the
 * committed image stays ({@code docker rmi} it to reclaim the space).
 *
 * <p>Overridable with system properties: {@code ollama.image} (default a pinned {@code ollama/ollama} release),
 * {@code ollama.chatModel} (default {@code smollm2:135m}, about 270 MB), {@code ollama.embedModel} (default
 * {@code all-minilm}, about 46 MB). Not thread-safe: one test class uses it at a time.
 */
public final class OllamaContainers {
    public static final String IMAGE = System.getProperty("ollama.image", "ollama/ollama:0.12.3");
    public static final String CHAT_MODEL = System.getProperty("ollama.chatModel", "smollm2:135m");
    public static final String EMBED_MODEL = System.getProperty("ollama.embedModel", "all-minilm");
    /** The Ollama image with both models in it, made on the first run. */
    public static final String CACHED_IMAGE = "ollama-balancer-test/ollama-models:" + tag(IMAGE, CHAT_MODEL, EMBED_MODEL);

    private OllamaContainers() {
    }

    /** Skips the calling test (class) with the reason when no Docker engine answers. */
    public static void requireDocker() {
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            docker = false;
        }
        if (!docker) {
            System.err.println("real-ollama tests skipped: no Docker engine (they start Ollama and Redis containers)");
        }
        Assumptions.assumeTrue(docker,
                "no Docker engine: the real-Ollama tests start ollama/ollama and redis containers (run them where "
                        + "Docker is, with mvn -B verify -Preal-ollama)");
    }

    /**
     * Starts one Ollama server holding both models, with {@code OLLAMA_NUM_PARALLEL=1} (one generation at a time, as
     * the balancer is told) and the models kept loaded for the test's length. The caller closes it.
     */
    public static OllamaContainer start() throws IOException, InterruptedException {
        ensureCachedImage();
        OllamaContainer c = new OllamaContainer(
                DockerImageName.parse(CACHED_IMAGE).asCompatibleSubstituteFor("ollama/ollama"))
                .withEnv("OLLAMA_NUM_PARALLEL", "1")
                .withEnv("OLLAMA_KEEP_ALIVE", "30m");
        c.start();
        return c;
    }

    /** Makes {@link #CACHED_IMAGE} unless the local image store has it: pulls the models once and commits. */
    private static synchronized void ensureCachedImage() throws IOException, InterruptedException {
        if (!DockerClientFactory.instance().client().listImagesCmd().withImageNameFilter(CACHED_IMAGE).exec()
                .isEmpty()) {
            return;
        }
        try (OllamaContainer seed = new OllamaContainer(IMAGE)) {
            seed.start();
            for (String model : List.of(CHAT_MODEL, EMBED_MODEL)) {
                pull(seed, model);
            }
            seed.commitToImage(CACHED_IMAGE);
        }
    }

    private static void pull(OllamaContainer c, String model) throws IOException, InterruptedException {
        Container.ExecResult r = c.execInContainer(StandardCharsets.UTF_8, "ollama", "pull", model);
        if (r.getExitCode() != 0) {
            throw new IllegalStateException("ollama pull " + model + " failed (exit " + r.getExitCode() + "): "
                    + r.getStderr());
        }
    }

    /** A short, stable tag for the image and models (a Docker tag allows neither '/' nor ':' from model names). */
    private static String tag(String... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] d = sha.digest(String.join("\n", parts).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
