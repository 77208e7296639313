package io.starling.broker.topic;

/**
 * The server's limits on Topic Names and Topic Filters ({@code max-topic-length}, {@code max-topic-levels}): a
 * topic may be at most {@code maxLength} bytes in UTF-8 and have at most {@code maxLevels} levels (one more than
 * its {@code /} separators). Deep topics cost recursion in wildcard matching and long ones memory in every queue,
 * retained store and index entry. Immutable; no allocation per check.
 *
 * @param maxLength longest topic in UTF-8 bytes
 * @param maxLevels most levels
 */
public record TopicLimits(int maxLength, int maxLevels) {

    /**
     * Why {@code topic} is over the limits, or {@code null} when it is within them. Cost: {@code topic.length()}
     * char reads at most; a topic short enough to be within the length in any encoding is not measured.
     */
    public String violation(String topic) {
        String length = lengthViolation(topic);
        if (length != null) {
            return length;
        }
        int n = topic.length();
        if (n >= maxLevels) {
            // maxLevels levels need maxLevels - 1 separators; more than that is over the limit
            int separators = 0;
            for (int i = 0; i < n; i++) {
                if (topic.charAt(i) == '/' && ++separators >= maxLevels) {
                    return "topic has more than max-topic-levels " + maxLevels + " levels";
                }
            }
        }
        return null;
    }

    /** Why {@code topic} is longer than {@code maxLength} UTF-8 bytes, or {@code null} when it is not. */
    public String lengthViolation(String topic) {
        int n = topic.length();
        if (n > maxLength) {
            return "topic of " + n + " characters exceeds max-topic-length " + maxLength;
        }
        if ((long) n * 3 > maxLength) {
            // a UTF-16 unit is at most 3 bytes in UTF-8 (a surrogate pair 4 for 2 units): only now measure
            int bytes = utf8Length(topic);
            if (bytes > maxLength) {
                return "topic of " + bytes + " bytes exceeds max-topic-length " + maxLength;
            }
        }
        return null;
    }

    private static int utf8Length(String s) {
        int bytes = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isSurrogate(c)) {
                bytes += 2; // a pair is 4 bytes
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
