package io.ollamabalancer.backend;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link BackendMemory} learning from sequences of {@code /api/ps} snapshots, and its configured overrides. */
class BackendMemoryTest {
    private static final long GB = 1L << 30;
    private static final long MIN = 60_000;

    /** A model resident with 5 minutes of keep-alive left at {@code now}. */
    private static ResidentModel idle(String key, long bytes, long now) {
        return new ResidentModel(key, bytes, now + 5 * MIN);
    }

    private static List<ResidentModel> ps(long now, Object... keyAndGb) {
        List<ResidentModel> out = new ArrayList<>();
        for (int i = 0; i < keyAndGb.length; i += 2) {
            out.add(idle((String) keyAndGb[i], ((Number) keyAndGb[i + 1]).longValue() * GB, now));
        }
        return out;
    }

    @Test
    void nothingLearnedMeansNoLimit() {
        BackendMemory m = new BackendMemory(0, 0);
        assertThat(m.modelLimit()).isEqualTo(BackendMemory.UNLIMITED);
        assertThat(m.fits(Set.of("a", "b", "c", "d"), "e")).isTrue();
        assertThat(m.snapshot().learnedModels()).isZero();
    }

    /**
     * What a preload may count on: a set seen resident at once, or configured limits; never the optimism of
     * {@link BackendMemory#fits} for a backend that showed nothing yet.
     */
    @Test
    void onlyWhatWasSeenResidentAtOnceOrConfiguredIsSurelyHeld() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(0, "a", 2), 0);
        assertThat(m.fits(Set.of("a"), "b")).isTrue();
        assertThat(m.seenToHold(Set.of("a"), "b")).isFalse();
        m.observe(ps(1_000, "a", 2, "b", 2), 1_000);
        assertThat(m.seenToHold(Set.of("a"), "b")).isTrue();
        assertThat(m.seenToHold(Set.of("b"), "a")).isTrue();
        assertThat(m.seenToHold(Set.of("a", "b"), "c")).isFalse();
        m.configure(3, 0);
        assertThat(m.seenToHold(Set.of("a", "b"), "c")).isTrue();
        m.configure(2, 0);
        assertThat(m.seenToHold(Set.of("a", "b"), "c")).isFalse();
    }

    @Test
    void evictionOnOneModelServerTeachesLimitOne() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(0, "a", 4), 0);
        m.observe(ps(1_000, "b", 4), 1_000); // a vanished 5 minutes early while b appeared
        assertThat(m.modelLimit()).isEqualTo(1);
        assertThat(m.evictionsSeen()).isEqualTo(1);
        assertThat(m.fits(Set.of("b"), "a")).isFalse();
        assertThat(m.fits(Set.of("b"), "b")).isTrue();
        assertThat(m.fits(Set.of(), "a")).isTrue();
    }

    @Test
    void evictionOnTwoModelServerTeachesLimitTwo() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(0, "a", 1), 0);
        m.observe(ps(1_000, "a", 1, "b", 1), 1_000);
        m.observe(ps(2_000, "b", 1, "c", 1), 2_000);
        assertThat(m.modelLimit()).isEqualTo(2);
        assertThat(m.maxCoResident()).isEqualTo(2);
        assertThat(m.fits(Set.of("b", "c"), "a")).isFalse();
        assertThat(m.fits(Set.of("c"), "a")).isTrue();
        BackendMemory.Snapshot s = m.snapshot();
        assertThat(s.learnedModels()).isEqualTo(2);
        assertThat(s.learnedBytes()).isZero(); // the count explains the eviction
        assertThat(s.evictionsSeen()).isEqualTo(1);
        assertThat(s.resident()).extracting(BackendMemory.Resident::model).containsExactlyInAnyOrder("b", "c");
    }

    @Test
    void newcomerListedOnlyAfterItsVictimVanished() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(0, "a", 1, "b", 1), 0);
        m.observe(ps(1_000, "b", 1), 1_000); // a unloaded, c still loading and not listed
        assertThat(m.evictionsSeen()).isZero();
        m.observe(ps(2_000, "b", 1, "c", 1), 2_000);
        assertThat(m.evictionsSeen()).isEqualTo(1);
        assertThat(m.modelLimit()).isEqualTo(2);
    }

    @Test
    void earlyVanishWithoutNewcomerForTooLongIsForgotten() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(0, "a", 1, "b", 1), 0);
        m.observe(ps(1_000, "b", 1), 1_000);
        long later = 1_000 + BackendMemory.PENDING_MILLIS + 1;
        m.observe(ps(later, "b", 1, "c", 1), later);
        assertThat(m.evictionsSeen()).isZero();
        assertThat(m.modelLimit()).isEqualTo(BackendMemory.UNLIMITED);
    }

    @Test
    void expiryIsNotAnEviction() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(List.of(new ResidentModel("a", GB, 10_000), idle("b", GB, 0)), 0);
        // a's keep-alive ran out at 10 s; by the next poll it is gone and c has arrived.
        m.observe(ps(11_000, "b", 1, "c", 1), 11_000);
        assertThat(m.evictionsSeen()).isZero();
        assertThat(m.modelLimit()).isEqualTo(BackendMemory.UNLIMITED);
        assertThat(m.fits(Set.of("b", "c"), "a")).isTrue();
    }

    @Test
    void keepAliveZeroUnloadIsNotAnEviction() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(0, "a", 1, "b", 1), 0);
        // `ollama stop a` (keep_alive:0): ps shows a with an expiry of now while it unloads.
        m.observe(List.of(new ResidentModel("a", GB, 1_000), idle("b", GB, 1_000)), 1_000);
        m.observe(ps(2_000, "b", 1, "c", 1), 2_000);
        assertThat(m.evictionsSeen()).isZero();
        assertThat(m.modelLimit()).isEqualTo(BackendMemory.UNLIMITED);
    }

    @Test
    void restartIsNotAnEviction() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(0, "a", 1, "b", 1), 0);
        m.observe(List.of(), 1_000); // everything vanished at once: restarted
        m.observe(ps(2_000, "c", 1), 2_000);
        assertThat(m.evictionsSeen()).isZero();

        BackendMemory down = new BackendMemory(0, 0);
        down.observe(ps(0, "a", 1), 0);
        down.lostSight(); // a poll failed: the server was down
        down.observe(ps(5_000, "c", 1), 5_000);
        assertThat(down.evictionsSeen()).isZero();
        assertThat(down.modelLimit()).isEqualTo(BackendMemory.UNLIMITED);
    }

    @Test
    void byteBudgetLearnedWithMixedSizes() {
        // A 24 GB server: four small models fit, a big and two small ones fit, a big and three small ones do not.
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(0, "s1", 4, "s2", 4, "s3", 4, "s4", 4), 0);
        m.observe(ps(1_000, "s1", 4, "big", 16), 1_000); // s2..s4 vanished early as big appeared
        assertThat(m.evictionsSeen()).isEqualTo(3);
        m.observe(ps(2_000, "s1", 4, "big", 16, "s2", 4), 2_000);
        m.observe(ps(3_000, "big", 16, "s2", 4, "s3", 4), 3_000); // s1 evicted for s3: 4 models, 28 GB
        assertThat(m.evictionsSeen()).isEqualTo(4);
        // Four models fitted once, so the evictions were about bytes, not the count.
        assertThat(m.modelLimit()).isEqualTo(BackendMemory.UNLIMITED);
        BackendMemory.Snapshot s = m.snapshot();
        assertThat(s.learnedModels()).isZero();
        assertThat(s.learnedBytes()).isEqualTo(24 * GB);
        assertThat(s.maxCoResident()).isEqualTo(4);
        assertThat(s.maxCoResidentBytes()).isEqualTo(24 * GB);
        m.installedSize("s5", 4 * GB);
        m.installedSize("tiny", GB);
        assertThat(m.fits(Set.of("big", "s2", "s3"), "s1")).isFalse(); // 4 models, 28 GB: the eviction itself
        assertThat(m.fits(Set.of("big", "s2", "s3"), "s5")).isFalse(); // just as large
        assertThat(m.fits(Set.of("big", "s2"), "s3")).isTrue(); // seen co-resident
        assertThat(m.fits(Set.of("s1", "s2", "s3"), "s4")).isTrue(); // 4 models, 16 GB: seen co-resident
        assertThat(m.fits(Set.of("s1", "s2", "s3", "s4"), "tiny")).isTrue(); // 5 models, 17 GB: no evidence
    }

    @Test
    void fitsIsMonotone() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(0, "a", 2, "b", 2), 0);
        m.observe(ps(1_000, "b", 2, "c", 2), 1_000); // {a,b,c} = 3 models, 6 GB did not fit
        m.installedSize("d", 8 * GB);
        m.installedSize("e", GB);
        assertThat(m.fits(Set.of("b", "c"), "a")).isFalse();
        // Anything at least as large in count and bytes does not fit either...
        assertThat(m.fits(Set.of("b", "c"), "d")).isFalse();
        // ...and anything no larger than a seen set does.
        assertThat(m.fits(Set.of("b"), "c")).isTrue();
        assertThat(m.fits(Set.of("b"), "e")).isTrue();
    }

    @Test
    void newerEvidenceWins() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(0, "a", 1), 0);
        m.observe(ps(1_000, "b", 1), 1_000);
        assertThat(m.modelLimit()).isEqualTo(1);
        m.observe(ps(2_000, "b", 1, "c", 1), 2_000); // the operator raised OLLAMA_MAX_LOADED_MODELS
        assertThat(m.modelLimit()).isEqualTo(BackendMemory.UNLIMITED);
        assertThat(m.fits(Set.of("b"), "c")).isTrue();
    }

    @Test
    void configuredLimitsOverrideLearning() {
        BackendMemory m = new BackendMemory(3, 0);
        m.observe(ps(0, "a", 1), 0);
        m.observe(ps(1_000, "b", 1), 1_000); // looks like a one-model server
        assertThat(m.modelLimit()).isEqualTo(3);
        assertThat(m.fits(Set.of("b"), "a")).isTrue();
        assertThat(m.fits(Set.of("a", "b", "c"), "d")).isFalse();

        m.configure(0, 10 * GB); // reload: only a VRAM budget; the learned count applies again
        assertThat(m.configuredModels()).isZero();
        assertThat(m.configuredBytes()).isEqualTo(10 * GB);
        assertThat(m.modelLimit()).isEqualTo(1);
        assertThat(m.evictionsSeen()).isEqualTo(1);

        m.configure(4, 10 * GB);
        m.installedSize("big", 9 * GB);
        assertThat(m.fits(Set.of("a"), "b")).isTrue(); // 2 GB
        assertThat(m.fits(Set.of("a", "b"), "big")).isFalse(); // 11 GB > 10 GB
        assertThat(m.snapshot().configuredModels()).isEqualTo(4);
    }

    @Test
    void backendBuildsItFromConfigAndAReloadKeepsWhatWasLearned() {
        java.net.URI url = java.net.URI.create("http://h:1");
        Backend b = new Backend(new io.ollamabalancer.config.BackendConfig("a", url, 1, null, true, 0, 0));
        BackendMemory memory = b.memory();
        memory.observe(ps(0, "x", 1, "y", 1), 0);
        memory.observe(ps(1_000, "y", 1, "z", 1), 1_000);
        assertThat(memory.modelLimit()).isEqualTo(2);

        b.reconfigure(new io.ollamabalancer.config.BackendConfig("a", url, 1, null, true, 4, 20 * GB));
        assertThat(b.memory()).isSameAs(memory);
        assertThat(memory.modelLimit()).isEqualTo(4);
        assertThat(memory.configuredBytes()).isEqualTo(20 * GB);
        assertThat(memory.evictionsSeen()).isEqualTo(1);

        b.reconfigure(new io.ollamabalancer.config.BackendConfig("a", url, 1, null, true));
        assertThat(memory.modelLimit()).isEqualTo(2); // back to what it learned

        Backend configured = new Backend(new io.ollamabalancer.config.BackendConfig("c", url, 1, null, true, 3, GB));
        assertThat(configured.memory().configuredModels()).isEqualTo(3);
        assertThat(configured.memory().configuredBytes()).isEqualTo(GB);
    }

    @Test
    void cpuModelsCountWithTheirSize() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(List.of(new ResidentModel("cpu", 3 * GB, Long.MAX_VALUE)), 0);
        assertThat(m.sizeOf("cpu")).isEqualTo(3 * GB);
        m.installedSize("cpu", GB); // /api/tags file size does not replace the size in memory
        assertThat(m.sizeOf("cpu")).isEqualTo(3 * GB);
        assertThat(m.snapshot().resident()).containsExactly(new BackendMemory.Resident("cpu", 3 * GB));
    }

    @Test
    void olderSnapshotIsIgnored() {
        BackendMemory m = new BackendMemory(0, 0);
        m.observe(ps(2_000, "a", 1), 2_000);
        m.observe(ps(1_000, "b", 1), 1_000);
        assertThat(m.snapshot().resident()).extracting(BackendMemory.Resident::model).containsExactly("a");
        assertThat(m.evictionsSeen()).isZero();
    }
}
