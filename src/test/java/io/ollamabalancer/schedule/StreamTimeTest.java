package io.ollamabalancer.schedule;

import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.CostModel;
import io.ollamabalancer.estimate.DecodeShare;
import io.ollamabalancer.estimate.Speeds;
import io.ollamabalancer.estimate.TimingSample;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.withinPercentage;

/**
 * What a response's decode shared with the others, from the backend's stream integrals, and the slowdown the cost
 * model learns from it when streams come and go during responses, as they do on any busy backend.
 */
class StreamTimeTest {
    private static final long S = 1_000_000_000L;
    /** The grid point of β = 1. */
    private static final int ONE = (int) Math.round(1 / DecodeShare.beta(1));

    @Test
    void aDecodeHalfAloneAndHalfBesideAnotherKeepsThreeQuartersOfItsSpeedWhenTheSlowdownIsOne() {
        StreamTime t = new StreamTime();
        StreamTime.Mark start = t.start(0);
        StreamTime.Mark second = t.start(S);
        StreamTime.Mark end = t.finish(2 * S);
        // the mean of 1 / k over the decode, not 1 / (mean k) = 2/3
        double[] at = shares(StreamTime.between(start, end, 2 * S));
        assertThat(at[ONE]).isCloseTo(0.75, within(1e-9));
        assertThat(at[0]).isCloseTo(1, within(1e-9));
        assertThat(second.level()).isEqualTo(2);
        assertThat(end.level()).isEqualTo(1);
    }

    @Test
    void theTimeBeforeTheDecodeIsLeftOut() {
        StreamTime t = new StreamTime();
        StreamTime.Mark start = t.start(0);
        // a 1 s prefill alone, then a decode of 2 s beside another stream
        t.start(S);
        StreamTime.Mark end = t.finish(3 * S);
        assertThat(shares(StreamTime.between(start, end, 2 * S))[ONE]).isCloseTo(0.5, within(1e-9));
    }

    @Test
    void aBurstOfStreamsDuringThePrefillDoesNotTakeTheDecodesShareToNothing() {
        StreamTime t = new StreamTime();
        StreamTime.Mark start = t.start(0);
        // 1,249 streams join during this stream's 0.1 s prefill (a load generator's ramp), then it decodes for 10 s
        // beside all of them, and they all end with it
        for (int i = 1; i < 1250; i++) {
            t.start(i * (S / 10) / 1250);
        }
        for (int i = 1; i < 1250; i++) {
            t.finish(S / 10 + 10 * S);
        }
        StreamTime.Mark end = t.finish(S / 10 + 10 * S);
        double[] at = shares(StreamTime.between(start, end, 10 * S));
        int half = (int) Math.round(0.5 / DecodeShare.beta(1));
        // taken at the starting level, the prefill's 0.1 s would take out 0.1 of the 0.004 the decode held
        assertThat(at[half]).isCloseTo(DecodeShare.at(half, 1250), withinPercentage(2));
        assertThat(at[ONE]).isCloseTo(DecodeShare.at(ONE, 1250), withinPercentage(2));
        assertThat(at[0]).isCloseTo(1, within(1e-9));
    }

    @Test
    void aDecodeShorterThanTheLoadBeforeItIsNotMeasured() {
        StreamTime t = new StreamTime();
        StreamTime.Mark start = t.start(0);
        // 8 s of load, during which another stream joins, then 1 s of decode: when it joined is unknown
        t.start(5 * S);
        assertThat(StreamTime.between(start, t.finish(9 * S), S)).isNull();
    }

    @Test
    void theSlowdownAndTheSingleStreamSpeedAreLearnedWhileStreamsComeAndGo() {
        // A fluid simulation of a 3-slot backend whose streams decode at 120 / (1 + 0.6 (k - 1)) tokens/s, with
        // arrivals at random: most responses see the concurrency change while they decode.
        double r1 = 120;
        double beta = 0.6;
        Random random = new Random(3);
        CostModel cost = new CostModel(CostHints.defaults());
        StreamTime streams = new StreamTime();
        List<double[]> running = new ArrayList<>(); // {tokens left, tokens, start nanos}
        List<StreamTime.Mark> marks = new ArrayList<>();
        long now = 0;
        long nextArrival = 0;
        long step = 1_000_000; // 1 ms
        int learned = 0;
        while (learned < 400) {
            if (now >= nextArrival && running.size() < 3) {
                int tokens = 20 + random.nextInt(200);
                running.add(new double[] {tokens, tokens, now});
                marks.add(streams.start(now));
                nextArrival = now + (long) (-Math.log(1 - random.nextDouble()) * 1.2 * S);
            }
            double rate = r1 / (1 + beta * (running.size() - 1));
            now += step;
            for (int i = running.size() - 1; i >= 0; i--) {
                double[] job = running.get(i);
                job[0] -= rate * step / 1e9;
                if (job[0] <= 0) {
                    long life = now - (long) job[2];
                    TimingSample sample = new TimingSample(50, 1, (long) job[1], life, 0, life);
                    StreamTime.Mark end = streams.finish(now);
                    cost.record("b", "m", sample, StreamTime.between(marks.get(i), end, life));
                    running.remove(i);
                    marks.remove(i);
                    learned++;
                }
            }
        }
        Speeds s = cost.speeds("b", "m");
        assertThat(s.slowdown()).isCloseTo(beta, within(0.06));
        assertThat(s.decodeTps(1)).isCloseTo(r1, withinPercentage(3));
    }

    private static double[] shares(DecodeShare share) {
        double[] out = new double[DecodeShare.GRID];
        for (int g = 0; g < DecodeShare.GRID; g++) {
            out[g] = share.share(g);
        }
        return out;
    }
}
