package io.starling.broker.acl;

import io.starling.broker.topic.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The rules of an ACL file. One rule a line; empty lines and lines starting with {@code #} are ignored:
 *
 * <pre>
 * allow|deny  SUBJECT  ACCESS  TOPIC-FILTER
 *
 * SUBJECT: all | anonymous | user:NAME | client:CLIENT-ID | cert:NAME   (NAME: no spaces)
 * ACCESS:  read (= subscribe) | write (= publish) | readwrite
 * TOPIC-FILTER: the rest of the line; + and # as in subscriptions; %u is the user name, %c the client id;
 *               or $share/GROUP/FILTER (access read only): who may join which shared subscription groups
 * </pre>
 *
 * <p><b>Precedence: the first matching rule decides</b>, in file order. For a client, a right (read or write) and a
 * topic, the rules are read from the top; the first one whose subject is the client, whose access includes the
 * right and whose filter matches the topic decides: allow or deny. <b>If no rule matches, the answer is deny</b>.
 * (Without an ACL file everything is allowed; see {@link Acl}.) {@code %u} and {@code %c} are replaced in one pass
 * ({@link Placeholders}); a rule whose {@code %u}/{@code %c} would be replaced by a value containing {@code /},
 * {@code +} or {@code #}, an empty one, one starting with {@code $} at the start of the filter, or whose {@code %u}
 * meets a client without a user name, does not apply to that client.
 *
 * <p>A SUBSCRIBE is allowed when some topic of its filter may be readable: going down the rules with read access, the
 * first that either allows a topic the filter could match, or denies every topic the filter matches, decides. What a
 * wildcard subscription then receives is checked topic by topic as messages are delivered.
 *
 * <p>{@code $share/GROUP/FILTER} rules are only about joining shared subscription groups ({@link TopicAccess#canJoin}):
 * while the file has none, any client may join any group (reading the topics is checked as for any subscription);
 * once it has one, joining {@code $share/G/F} needs the first such rule about the client with GROUP {@code +} or
 * {@code G} that either allows a FILTER covering {@code F} or denies one overlapping it to be an allow.
 *
 * <p>Immutable and thread-safe.
 */
public final class AclRules {

    private final List<AclRule> rules;
    private final boolean shareRules;

    private AclRules(List<AclRule> rules) {
        this.rules = List.copyOf(rules);
        this.shareRules = rules.stream().anyMatch(AclRule::isShareRule);
    }

    /**
     * Parses the lines of an ACL file.
     *
     * @throws IllegalArgumentException naming the line and what is wrong with it
     */
    public static AclRules parse(List<String> lines) {
        List<AclRule> rules = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                rules.add(parseRule(line, i + 1));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return new AclRules(rules);
    }

    /** Reads and parses an ACL file (UTF-8). */
    public static AclRules read(Path file) throws IOException {
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    private static AclRule parseRule(String line, int number) {
        String[] head = line.split("\\s+", 4);
        if (head.length < 4) {
            throw new IllegalArgumentException("expected 'allow|deny SUBJECT ACCESS TOPIC-FILTER', got '" + line + "'");
        }
        boolean allow = switch (head[0].toLowerCase(Locale.ROOT)) {
            case "allow" -> true;
            case "deny" -> false;
            default -> throw new IllegalArgumentException("'" + head[0] + "' is neither allow nor deny");
        };
        AclRule.Subject subject;
        String value = null;
        String who = head[1];
        int colon = who.indexOf(':');
        String kind = (colon < 0 ? who : who.substring(0, colon)).toLowerCase(Locale.ROOT);
        switch (kind) {
            case "all" -> subject = AclRule.Subject.ALL;
            case "anonymous" -> subject = AclRule.Subject.ANONYMOUS;
            case "user" -> subject = AclRule.Subject.USER;
            case "client" -> subject = AclRule.Subject.CLIENT;
            case "cert" -> subject = AclRule.Subject.CERT;
            default -> throw new IllegalArgumentException("unknown subject '" + who
                    + "' (all, anonymous, user:NAME, client:ID, cert:NAME)");
        }
        boolean named = subject == AclRule.Subject.USER || subject == AclRule.Subject.CLIENT
                || subject == AclRule.Subject.CERT;
        if (named) {
            value = colon < 0 ? "" : who.substring(colon + 1);
            if (value.isEmpty()) {
                throw new IllegalArgumentException("'" + who + "' needs a name after the ':'");
            }
        } else if (colon >= 0) {
            throw new IllegalArgumentException("'" + kind + "' takes no name");
        }
        int rights = switch (head[2].toLowerCase(Locale.ROOT)) {
            case "read", "subscribe" -> AclRule.READ;
            case "write", "publish" -> AclRule.WRITE;
            case "readwrite" -> AclRule.READ | AclRule.WRITE;
            default -> throw new IllegalArgumentException("unknown access '" + head[2]
                    + "' (read, subscribe, write, publish, readwrite)");
        };
        String pattern = head[3].strip();
        String filter = pattern;
        if (Topics.isShared(pattern)) {
            // a rule about joining shared subscription groups: $share/GROUP/FILTER, GROUP a Share Name or '+'
            if (rights != AclRule.READ) {
                throw new IllegalArgumentException("a $share/ rule is about joining a group, its access is read: '"
                        + line + "'");
            }
            int slash = pattern.indexOf('/', Topics.SHARE_PREFIX.length());
            String group = slash < 0 ? "" : pattern.substring(Topics.SHARE_PREFIX.length(), slash);
            if (group.isEmpty() || (!group.equals("+") && (group.indexOf('+') >= 0 || group.indexOf('#') >= 0))) {
                throw new IllegalArgumentException("expected $share/GROUP/FILTER with GROUP a Share Name (no '+' or"
                        + " '#') or '+' for any group, got '" + pattern + "'");
            }
            filter = pattern.substring(slash + 1);
        }
        if (!Topics.isValidFilter(withoutPlaceholders(filter)) || Topics.isShared(filter)) {
            throw new IllegalArgumentException("'" + filter + "' is not a valid topic filter");
        }
        if (subject == AclRule.Subject.ANONYMOUS && (pattern.contains("%u") || pattern.contains("%{"))) {
            throw new IllegalArgumentException("%u and %{name} in a rule for anonymous clients never match");
        }
        return new AclRule(allow, subject, value, rights, pattern, number);
    }

    /** The rules in file order. */
    public List<AclRule> rules() {
        return rules;
    }

    /** Whether the file has no rules (then, like any ACL file, it denies everything). */
    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /** Whether some rule is about joining shared subscription groups: then joining one needs a rule that allows it. */
    public boolean hasShareRules() {
        return shareRules;
    }

    /**
     * The rules that apply to one client, in order, with {@code %u}/{@code %c} replaced in one pass
     * ({@link Placeholders}): what {@link TopicAccess} evaluates for every check of that client. A rule that needs a
     * value the client does not have, or has only in an unsafe form, is left out.
     */
    List<BoundRule> bind(ClientIdentity id) {
        List<BoundRule> out = new ArrayList<>();
        for (AclRule r : rules) {
            if (!r.appliesTo(id)) {
                continue;
            }
            String filter = Placeholders.expand(r.topicFilter(), id);
            String group = null;
            if (r.isShareRule()) {
                group = Placeholders.expandShareName(r.shareGroup(), id);
                if (group == null) {
                    continue;
                }
            }
            if (filter != null) {
                out.add(new BoundRule(r.allow(), r.rights(), filter, group, r));
            }
        }
        return out;
    }

    /** The pattern with every placeholder replaced by a plain letter; an error for a malformed {@code %{...}}. */
    private static String withoutPlaceholders(String pattern) {
        StringBuilder out = new StringBuilder(pattern.length());
        for (int i = 0; i < pattern.length(); i++) {
            char ch = pattern.charAt(i);
            char next = i + 1 < pattern.length() ? pattern.charAt(i + 1) : 0;
            if (ch == '%' && (next == 'u' || next == 'c')) {
                out.append(next);
                i++;
            } else if (ch == '%' && next == '{') {
                int end = Placeholders.attributeEnd(pattern, i);
                if (end < 0) {
                    throw new IllegalArgumentException("'%{' must be followed by an attribute name (letters, digits,"
                            + " _ - . :) and '}' in '" + pattern + "'");
                }
                out.append('a');
                i = end;
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }

    /**
     * A rule bound to one client: placeholders replaced.
     *
     * @param group for a {@code $share/GROUP/FILTER} rule the Share Name or {@code +} (any); {@code null} for a topic
     *     rule
     */
    record BoundRule(boolean allow, int rights, String filter, String group, AclRule rule) {
    }

    @Override
    public String toString() {
        return "AclRules[" + rules.size() + " rules]";
    }
}
