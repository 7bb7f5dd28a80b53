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
 * One installed model and its runner state: unloaded, queued for memory, loading or loaded, with the requests waiting
 * for it, the requests using it ({@link #active()}) and Ollama's keep-alive timer (armed when the last user leaves;
 * 0 unloads at once, negative never). Loads and memory pressure are arbitrated by the server's {@link ModelMemory},
 * which may mark a loaded runner for eviction: it then takes no new users and unloads when the last one leaves.
 * Confined to the simulator's event loop.
 */
final class ModelRuntime {
    enum State { UNLOADED, QUEUED, LOADING, LOADED }

    /** Called when the model is ready for a request. */
    @FunctionalInterface
    interface Ready {
        void ready(boolean wasCold);
    }

    /**
     * One request's hold on the model, from {@link #acquire} to {@link #release}. Made before acquiring, so that a
     * ready callback running inside {@code acquire} can already release it.
     */
    static final class Claim {
        private final Ready ready;
        private boolean active;
        private boolean released;

        Claim(Ready ready) {
            this.ready = ready;
        }
    }

    private final SimModel model;
    private final String displayName;
    private final String digest;
    private final Instant modifiedAt;
    private final EventLoop loop;
    private final ModelMemory memory;
    private final long loadTimeMillis;
    private final List<Claim> waiters = new ArrayList<>();
    private State state;
    private int active;
    private boolean evicting;
    private long lastUsed;
    private long keepAliveNanos;
    private Instant idleSince;
    private ScheduledFuture<?> expiry;

    ModelRuntime(SimModel model, String displayName, Instant modifiedAt, SimulatorConfig config, EventLoop loop,
                 ModelMemory memory) {
        this.model = model;
        this.displayName = displayName;
        this.digest = sha256(displayName);
        this.modifiedAt = modifiedAt;
        this.loop = loop;
        this.memory = memory;
        this.loadTimeMillis = config.loadTimeMillis();
        this.keepAliveNanos = config.keepAliveMillis() < 0 ? GoDuration.FOREVER
                : TimeUnit.MILLISECONDS.toNanos(config.keepAliveMillis());
        this.state = State.UNLOADED;
        if (model.loadedAtStart()) {
            // Constructed off-loop before the server starts; arming the timer only enqueues a task.
            state = State.LOADED;
            lastUsed = memory.tick();
            memory.adoptLoaded(this);
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

    /** Requests using the loaded runner now (Ollama's {@code refCount}). */
    int active() {
        return active;
    }

    /** Whether memory pressure has marked this runner to unload once its users leave. */
    boolean evicting() {
        return evicting;
    }

    /** {@link ModelMemory#tick()} of the last acquire or release; smaller = less recently used. */
    long lastUsed() {
        return lastUsed;
    }

    /** The runner's current keep_alive in ns ({@link GoDuration#FOREVER} for never). */
    long keepAliveNanos() {
        return keepAliveNanos;
    }

    /**
     * Takes a hold on the model; its ready callback runs now if it is loaded, else when the (possibly shared) load
     * finishes. A runner marked for eviction is not joined: the request waits for its unload and a reload.
     */
    void acquire(Claim c) {
        if (state == State.LOADED && !evicting) {
            cancelExpiry();
            activate(c);
            c.ready.ready(false);
            return;
        }
        waiters.add(c);
        if (state == State.UNLOADED) {
            memory.requestLoad(this);
        }
    }

    /**
     * Lets go of a hold (idempotent). A request's {@code keep_alive} (nanoseconds, null if absent) persists on the
     * runner, as in Ollama.
     */
    void release(Claim c, Long keepAlive) {
        if (c.released) {
            return;
        }
        c.released = true;
        if (keepAlive != null) {
            keepAliveNanos = keepAlive;
        }
        if (!c.active) {
            waiters.remove(c);
            if (waiters.isEmpty() && state == State.QUEUED) {
                // Nobody wants the queued load any more; Ollama skips cancelled pending requests.
                state = State.UNLOADED;
                memory.cancelLoad(this);
            }
            return;
        }
        active--;
        lastUsed = memory.tick();
        if (active == 0 && state == State.LOADED) {
            becameIdle();
        }
    }

    /** {@code keep_alive:0} with an empty prompt: unload now, or as soon as in-flight work ends. */
    void expireNow() {
        keepAliveNanos = 0;
        if (active == 0 && state == State.LOADED) {
            becameIdle();
        }
    }

    /** Called by {@link ModelMemory}: the load was queued for room. */
    void queued() {
        state = State.QUEUED;
    }

    /** Called by {@link ModelMemory}: room is made, load now. */
    void startLoad() {
        state = State.LOADING;
        loop.schedule(this::loaded, loadTimeMillis, TimeUnit.MILLISECONDS);
    }

    private void loaded() {
        state = State.LOADED;
        lastUsed = memory.tick();
        List<Claim> ready = new ArrayList<>(waiters);
        waiters.clear();
        for (Claim c : ready) {
            activate(c);
        }
        for (Claim c : ready) {
            c.ready.ready(true);
        }
        if (active == 0 && state == State.LOADED) {
            becameIdle();
        }
        memory.loaded(this);
    }

    /**
     * Called by {@link ModelMemory}: unload to make room, now if idle, else when the last user leaves. New requests
     * wait for the unload and queue a reload.
     */
    void evict() {
        evicting = true;
        cancelExpiry();
        if (active == 0) {
            unload(true);
        }
    }

    private void activate(Claim c) {
        c.active = true;
        active++;
        lastUsed = memory.tick();
    }

    private void becameIdle() {
        if (evicting) {
            unload(true);
            return;
        }
        idleSince = Instant.now();
        armExpiry();
    }

    private void armExpiry() {
        cancelExpiry();
        if (keepAliveNanos == 0) {
            unload(false);
        } else if (keepAliveNanos != GoDuration.FOREVER && keepAliveNanos > 0) {
            expiry = loop.schedule(() -> unload(false), keepAliveNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void cancelExpiry() {
        if (expiry != null) {
            expiry.cancel(false);
            expiry = null;
        }
    }

    private void unload(boolean forced) {
        if (active != 0 || state != State.LOADED) {
            return;
        }
        cancelExpiry();
        state = State.UNLOADED;
        evicting = false;
        memory.unloaded(this, forced);
        if (!waiters.isEmpty() && state == State.UNLOADED) {
            // Requests that arrived while this runner was marked for eviction: reload, behind earlier loads.
            memory.requestLoad(this);
        }
    }

    /** When the runner will unload if nothing uses it: now + keep_alive while busy, idle time + keep_alive after. */
    Instant expiresAt(Instant now) {
        if (keepAliveNanos == GoDuration.FOREVER) {
            return now.plusNanos(GoDuration.FOREVER);
        }
        Instant base = active > 0 || idleSince == null ? now : idleSince;
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

    /** Lower-case hex SHA-256 of a string's UTF-8 bytes. */
    static String sha256(String s) {
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
