package io.starling.codec;

import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.function.ThrowingConsumer;

/**
 * Seeded random property checks in plain JUnit: a property is checked on {@code tries} inputs, each drawn from a
 * {@link Random} of its own whose seed is {@code baseSeed + try}. The seeds are fixed in the tests, so every run
 * checks the same inputs and a failure comes back on the next run; its message names the seed and the input.
 *
 * <p>Two system properties change a run (Maven passes {@code -D} options to the tests):
 * {@code -Dstarling.fuzz.seed=N} starts from another seed (to explore inputs the fixed seeds do not reach, or, with
 * {@code -Dstarling.fuzz.tries=1} and the seed of a failure, to rerun just the failing input) and
 * {@code -Dstarling.fuzz.tries=N} sets the number of tries of every property.
 */
final class Tries {

    static final String SEED_PROPERTY = "starling.fuzz.seed";
    static final String TRIES_PROPERTY = "starling.fuzz.tries";

    private Tries() {
    }

    /**
     * Checks {@code property} on {@code tries} inputs made by {@code generate}; the first failure (an assertion, or
     * any exception or error) is rethrown as an {@link AssertionError} naming the property, the seed of the input,
     * how to rerun it, and the input as {@code describe} writes it.
     */
    static <T> void check(String name, long baseSeed, int tries, Function<Random, T> generate,
            Function<T, String> describe, ThrowingConsumer<T> property) {
        long base = Long.getLong(SEED_PROPERTY, baseSeed);
        int count = Integer.getInteger(TRIES_PROPERTY, tries);
        for (int i = 0; i < count; i++) {
            long seed = base + i;
            T input;
            try {
                input = generate.apply(random(seed));
            } catch (RuntimeException e) {
                throw new AssertionError(name + ": generating the input of seed " + seed + " failed: " + e, e);
            }
            try {
                property.accept(input);
            } catch (Throwable t) {
                throw new AssertionError(name + " failed on try " + (i + 1) + " of " + count + ", seed " + seed
                        + " (rerun: -D" + SEED_PROPERTY + "=" + seed + " -D" + TRIES_PROPERTY + "=1)\n  input: "
                        + describe.apply(input) + "\n  failure: " + t, t);
            }
        }
    }

    /**
     * The generator for one seed. The seed is mixed first (SplitMix64's finalizer): {@code new Random(seed)} of
     * consecutive seeds starts with nearly equal values, and the tries use consecutive seeds.
     */
    static Random random(long seed) {
        long z = seed + 0x9E37_79B9_7F4A_7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return new Random(z ^ (z >>> 31));
    }

    /** Hex of bytes, for failure messages. */
    static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 3 + 2).append('[');
        for (int i = 0; i < bytes.length; i++) {
            sb.append(i == 0 ? "" : " ").append(String.format("%02x", bytes[i] & 0xFF));
        }
        return sb.append(']').toString();
    }
}
