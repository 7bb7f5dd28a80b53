package io.ollamabalancer.replay;

import io.ollamabalancer.cli.FleetFile;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The placement timeline of one replay: plan changes in virtual-time order, the state lines at their interval, the
 * learned speeds and the outcome, and watching changes nothing of the replay itself.
 */
class PlanTimelineTest {
    @Test
    void showsEachPlanChangeTheBackendsStateAndTheOutcomeOfAnUnchangedReplay() {
        Path file = Path.of("bench/fleets/swap.json");
        SimFleet fleet = new SimFleet("swap", FleetFile.load(file, file.toString()));
        TraceShape shape = TraceShape.of(300, ModelMix.normalised(
                ModelMix.parse("llama3.2:1b:50,qwen2.5:0.5b:30,gemma3:1b:20", fleet)));
        Trace trace = ReplayFixtures.trace(fleet, 7, shape, 0.4);
        StringWriter text = new StringWriter();
        PlanTimeline.run(fleet, trace, 30, new PrintWriter(text));
        String out = text.toString();

        VirtualReplay.Result plain = VirtualReplay.runDetailed(fleet, trace, "eft");
        Summary s = Summary.of("eft", plain.outcomes());
        assertThat(out).contains(String.format(java.util.Locale.ROOT,
                "outcome: 300 requests, 0 failed, e2e mean %.2f s", s.e2eMean()));
        assertThat(out).contains(plain.loads() + " model loads");
        // every backend of the fleet in each plan line, the plan lines in time order
        List<String> plans = out.lines().filter(l -> l.contains("  plan  ")).toList();
        assertThat(plans).isNotEmpty().allSatisfy(l -> assertThat(l).contains("fast=", "slow1=", "slow2="));
        double last = -1;
        Pattern t = Pattern.compile("t=\\s*([0-9.]+) s");
        for (String l : out.lines().filter(x -> x.startsWith("t=")).toList()) {
            Matcher m = t.matcher(l);
            assertThat(m.find()).isTrue();
            double at = Double.parseDouble(m.group(1));
            assertThat(at).isGreaterThanOrEqualTo(last);
            last = at;
        }
        long states = out.lines().filter(l -> l.contains("  state  loaded {")).count();
        assertThat(states).isGreaterThanOrEqualTo((long) (last / 30) - 1);
        assertThat(out).contains("learned speeds").containsPattern("fast llama3.2:1b: [0-9.]+, [0-9.]+, [0-9]+");
    }
}
