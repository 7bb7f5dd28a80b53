package io.ollamabalancer.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * What one test opened (servers, simulators, Redis, sockets), closed in reverse order of opening, so clients go
 * before the servers they talk to. Closing goes on past a failure and throws the first one, with later ones
 * suppressed in it. Not thread-safe: the test thread adds, {@code @AfterEach} closes; reusable after closing.
 * Not itself {@link AutoCloseable}: what it closes may throw {@link InterruptedException}, which a
 * try-with-resources block should not swallow.
 */
public final class Closer {
    private final List<AutoCloseable> open = new ArrayList<>();

    /** Remembers {@code resource} for {@link #closeAll()}; returns it. */
    public <T extends AutoCloseable> T add(T resource) {
        open.add(resource);
        return resource;
    }

    /** Closes everything added so far, last first. */
    public void closeAll() throws Exception {
        Exception first = null;
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        open.clear();
        if (first != null) {
            throw first;
        }
    }
}
