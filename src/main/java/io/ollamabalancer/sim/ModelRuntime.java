package io.ollamabalancer.sim;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One installed model and its runner state: unloaded, loading or loaded, with a reference count of requests using it
 * and Ollama's keep-alive timer (armed when the count drops to zero; 0 unloads at once, negative never). There is no
 * memory budget or eviction: any number of models may be loaded. Confined to the simulator's event loop.
 */
final class ModelRuntime {
    enum State { UNLOADED, LOADING, LOADED }

    /** Called when the model is ready for a request. */
    @FunctionalInterface
    interface Ready {
        void ready(boolean wasCold);
    }

    private final SimModel model;
    private final String displayName;
    private final String digest;
    private final Instant modifiedAt;
    private final EventLoop loop;
    private final long loadTimeMillis;
    private final List<Ready> waiters = new ArrayList<>();
    private State state;
    private int refs;
    private long keepAliveNanos;
    private Instant idleSince;
    private ScheduledFuture<?> expiry;

    ModelRuntime(SimModel model, String displayName, Instant modifiedAt, SimulatorConfig config, EventLoop loop) {
        this.model = model;
        this.displayName = displayName;
        this.digest = sha256(displayName);
        this.modifiedAt = modifiedAt;
        this.loop = loop;
        this.loadTimeMillis = config.loadTimeMillis();
        this.keepAliveNanos = config.keepAliveMillis() < 0 ? GoDuration.FOREVER
                : TimeUnit.MILLISECONDS.toNanos(config.keepAliveMillis());
        this.state = State.UNLOADED;
        if (model.loadedAtStart()) {
            // Constructed off-loop before the server starts; arming the timer only enqueues a task.
            state = State.LOADED;
            idleSince = Instant.now();
            armExpiry();
        }
    }

    SimModel model() {
        return model;
    }

    String displayName() {
        return displayName;
    }

    /** Bare hex digest, stable per name (Ollama: sha256 of the manifest). */
    String digest() {
        return digest;
    }

    Instant modifiedAt() {
        return modifiedAt;
    }

    State state() {
        return state;
    }

    /** Takes a reference; {@code onReady} runs now if loaded, else when the (possibly shared) load finishes. */
    void acquire(Ready onReady) {
        refs++;
        cancelExpiry();
        switch (state) {
            case LOADED:
                onReady.ready(false);
                break;
            case LOADING:
                waiters.add(onReady);
                break;
            default:
                state = State.LOADING;
                waiters.add(onReady);
                loop.schedule(this::loaded, loadTimeMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void loaded() {
        state = State.LOADED;
        List<Ready> ready = new ArrayList<>(waiters);
        waiters.clear();
        for (Ready r : ready) {
            r.ready(true);
        }
        if (refs == 0) {
            becameIdle();
        }
    }

    /**
     * Drops a reference. A request's {@code keep_alive} (nanoseconds, null if absent) persists on the runner, as in
     * Ollama.
     */
    void release(Long keepAlive) {
        if (keepAlive != null) {
            keepAliveNanos = keepAlive;
        }
        refs--;
        if (refs == 0 && state == State.LOADED) {
            becameIdle();
        }
    }

    /** {@code keep_alive:0} with an empty prompt: unload now, or as soon as in-flight work ends. */
    void expireNow() {
        keepAliveNanos = 0;
        if (refs == 0 && state == State.LOADED) {
            becameIdle();
        }
    }

    private void becameIdle() {
        idleSince = Instant.now();
        armExpiry();
    }

    private void armExpiry() {
        cancelExpiry();
        if (keepAliveNanos == 0) {
            unload();
        } else if (keepAliveNanos != GoDuration.FOREVER && keepAliveNanos > 0) {
            expiry = loop.schedule(this::unload, keepAliveNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void cancelExpiry() {
        if (expiry != null) {
            expiry.cancel(false);
            expiry = null;
        }
    }

    private void unload() {
        if (refs == 0 && state == State.LOADED) {
            state = State.UNLOADED;
        }
    }

    /** When the runner will unload if nothing uses it: now + keep_alive while busy, idle time + keep_alive after. */
    Instant expiresAt(Instant now) {
        if (keepAliveNanos == GoDuration.FOREVER) {
            return now.plusNanos(GoDuration.FOREVER);
        }
        Instant base = refs > 0 || idleSince == null ? now : idleSince;
        return base.plusNanos(keepAliveNanos);
    }

    /** GGUF architecture name, taken from the family. */
    String architecture() {
        return model.family();
    }

    /** Training context length reported by {@code /api/show} as {@code <arch>.context_length}. */
    int trainingContext() {
        if (model.isEmbedding()) {
            return model.family().contains("nomic") ? 2048 : 512;
        }
        return model.family().startsWith("qwen") ? 32768 : 131072;
    }

    /** Vector length for {@code /api/embed}; completion models embed with a typical hidden size. */
    int embeddingLength() {
        return model.isEmbedding() ? model.embeddingDims() : 2048;
    }

    private static String sha256(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(64);
            for (byte b : d) {
                sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
