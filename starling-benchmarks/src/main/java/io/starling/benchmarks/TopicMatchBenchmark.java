package io.starling.benchmarks;

import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.SubscriptionIndex;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Matching one topic against an index of many subscriptions: one exact subscription per device plus a
 * wildcard subscription per building.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TopicMatchBenchmark {

    @Param({"10000", "1000000"})
    int subscriptions;

    private final SubscriptionIndex index = new SubscriptionIndex();
    private int counter;

    @Setup
    public void setUp() {
        for (int i = 0; i < subscriptions; i++) {
            index.add(new Subscription("c" + i, "b/" + (i % 1000) + "/d/" + i, 1, false, false, 0, 0));
        }
        for (int b = 0; b < 1000; b++) {
            index.add(new Subscription("w" + b, "b/" + b + "/+/#", 1, false, false, 0, 0));
        }
    }

    @Benchmark
    public int match() {
        int i = counter++ % subscriptions;
        int[] n = new int[1];
        index.match("b/" + (i % 1000) + "/d/" + i, s -> n[0]++);
        return n[0];
    }
}
