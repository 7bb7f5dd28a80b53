package io.ollamabalancer.cli;

import java.nio.file.Path;
import java.util.Map;

/**
 * What the commands read from the process around them: the environment and the working directory. Passed in
 * rather than read from {@link System} so that tests can run every command against a map and a temporary
 * directory. Immutable.
 *
 * @param env     environment variables
 * @param workDir directory that {@code .env}, {@code conf/} and relative paths are relative to
 */
public record CliContext(Map<String, String> env, Path workDir) {

    public CliContext {
        env = Map.copyOf(env);
    }

    /** The real process: {@link System#getenv()} and the current directory. */
    public static CliContext system() {
        return new CliContext(System.getenv(), Path.of("").toAbsolutePath());
    }
}
