package io.ollamabalancer.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** A port that is already taken is the operator's mistake: one line naming it, exit 2, nothing left running. */
class PortInUseTest {

    @Test
    void serveOnATakenPortExitsTwoWithOneLineNamingThePort(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("containers.config.json"),
                "[{\"name\":\"a\",\"url\":\"http://127.0.0.1:9\"}]");
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            StringWriter err = new StringWriter();
            // The real launcher: the balancer really tries to bind.
            int code = Cli.run(new String[] {"serve", "--bind", "127.0.0.1", "--port", String.valueOf(port)},
                    new CliContext(Map.of(), dir), Launcher.SERVER, new PrintWriter(new StringWriter()),
                    new PrintWriter(err));
            assertThat(code).isEqualTo(2);
            assertThat(err.toString().lines())
                    .containsExactly("ollama-balancer: port " + port + " is already in use (--port)");
        }
    }

    @Test
    void demoOnATakenPortStartsNoSimulator() throws Exception {
        AtomicInteger launched = new AtomicInteger();
        Launcher recording = (config, backends) -> {
            launched.incrementAndGet();
            throw new AssertionError("the demo must not get this far");
        };
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            StringWriter err = new StringWriter();
            int code = Cli.run(new String[] {"demo", "--port", String.valueOf(port)},
                    new CliContext(Map.of(), Path.of(".")), recording, new PrintWriter(new StringWriter()),
                    new PrintWriter(err));
            assertThat(code).isEqualTo(2);
            assertThat(err.toString().lines())
                    .containsExactly("ollama-balancer: port " + port + " is already in use (--port)");
            assertThat(launched).hasValue(0);
        }
    }
}
