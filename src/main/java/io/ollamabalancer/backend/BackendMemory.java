package io.ollamabalancer.backend;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one backend can hold in memory at once: the limits configured for it ({@code maxLoadedModels},
 * {@code vramBytes} in the backends file), else what was learned from its {@code /api/ps} snapshots (a model that
 * vanished before its keep-alive ran out while another appeared was evicted: the set before plus the newcomer did
 * not fit). Unknown limits are taken as no limit.
 *
 * <p>Thread-safe: snapshots arrive on the poller's thread, questions come from any dispatching thread; learned
 * figures are single volatile fields, replaced whole.
 */
public final class BackendMemory {
    /** {@link #modelLimit()} when nothing limits the number of models. */
    public static final int UNLIMITED = Integer.MAX_VALUE;

    private final int configuredModels;
    private final long configuredBytes;
    private final Map<String, Long> sizes = new ConcurrentHashMap<>();
    private volatile Set<String> last = Set.of();
    private volatile long lastAtMillis;
    private volatile Map<String, Long> lastExpiry = Map.of();
    private volatile int learnedModels = UNLIMITED;
    private volatile int maxCoResident;
    private int pendingEviction;

    /** @param configuredModels 0 for none; @param configuredBytes 0 for none */
    public BackendMemory(int configuredModels, long configuredBytes) {
        this.configuredModels = configuredModels;
        this.configuredBytes = configuredBytes;
    }

    /** Learns from one {@code /api/ps} snapshot taken at {@code nowMillis} (epoch ms). */
    public synchronized void observe(List<ResidentModel> resident, long nowMillis) {
        Set<String> now = new HashSet<>();
        Map<String, Long> expiry = new java.util.HashMap<>();
        for (ResidentModel m : resident) {
            now.add(m.key());
            expiry.put(m.key(), m.expiresAtMillis());
            if (m.bytes() > 0) {
                sizes.put(m.key(), m.bytes());
            }
        }
        maxCoResident = Math.max(maxCoResident, now.size());
        for (String gone : last) {
            if (!now.contains(gone) && lastExpiry.getOrDefault(gone, Long.MAX_VALUE) > nowMillis) {
                // Gone before its keep-alive ran out: room was being made. What it held did not fit one more.
                pendingEviction = Math.max(pendingEviction, last.size());
            }
        }
        boolean appeared = !now.isEmpty() && !last.containsAll(now);
        if (appeared && pendingEviction > 0) {
            learnedModels = Math.min(learnedModels, pendingEviction);
            pendingEviction = 0;
        }
        last = Set.copyOf(now);
        lastExpiry = Map.copyOf(expiry);
        lastAtMillis = nowMillis;
    }

    /** Size in memory of {@code model} as last seen (or from {@code /api/tags}); 0 when unknown. */
    public long sizeOf(String model) {
        return sizes.getOrDefault(model, 0L);
    }

    /** Records a model's file size from {@code /api/tags} when nothing better is known. */
    public void installedSize(String model, long bytes) {
        if (bytes > 0) {
            sizes.putIfAbsent(model, bytes);
        }
    }

    /** How many models it holds at once: configured, else learned; {@link #UNLIMITED} when unknown. */
    public int modelLimit() {
        if (configuredModels > 0) {
            return configuredModels;
        }
        return learnedModels;
    }

    /** Whether {@code model} fits alongside {@code resident} (which may include it) without an eviction. */
    public boolean fits(Collection<String> resident, String model) {
        int count = resident.contains(model) ? resident.size() : resident.size() + 1;
        if (count > modelLimit()) {
            return false;
        }
        if (configuredBytes > 0) {
            long total = resident.contains(model) ? 0 : sizeOf(model);
            for (String r : resident) {
                total += sizeOf(r);
            }
            return total <= configuredBytes;
        }
        return true;
    }

    /** The most models seen resident at once. */
    public int maxCoResident() {
        return maxCoResident;
    }

    public int configuredModels() {
        return configuredModels;
    }

    public long configuredBytes() {
        return configuredBytes;
    }
}
