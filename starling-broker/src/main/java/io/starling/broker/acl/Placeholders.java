package io.starling.broker.acl;

import java.util.Map;

/**
 * Replaces {@code %u} (user name), {@code %c} (client id) and {@code %{name}} (an attribute of the client's
 * authentication: a JWT claim, an attribute an HTTP service answered) in a topic filter or topic, in ONE pass over
 * the pattern: a replaced value is copied as it is and never scanned again, so a user called {@code %c} stands for
 * the two characters {@code %c}, not for the client id. A {@code %} followed by anything else is kept as it is.
 *
 * <p>The values are chosen by clients (a client id always; a user name through a password file entry, an
 * authenticator or a certificate's CN/SAN), so a value that would change what the result means makes the whole
 * expansion fail ({@code null}) instead of being put in:
 * <ul>
 *   <li>no value: an anonymous client for {@code %u}, a client without that attribute for {@code %{name}}, or an
 *       empty string;</li>
 *   <li>a value with {@code /}, {@code +} or {@code #}: it would add levels or wildcards (a user called {@code #}
 *       would turn {@code home/%u/#} into {@code home/#/#}, a user {@code a/b} would reach {@code home/a/b/...},
 *       which is below user {@code a}'s {@code home/a/#});</li>
 *   <li>a value starting with {@code $} at the very start of the result: it would turn the pattern into one about
 *       {@code $}-topics ({@code %u/#} for a user called {@code $SYS} would be {@code $SYS/#}), which are the
 *       server's [MQTT-4.7.2-1].</li>
 * </ul>
 * Since no topic level can contain {@code /}, {@code +} or {@code #}, a pattern with such a value taken literally
 * would match no topic at all: failing is the same as the literal reading, and never wider than it. Stateless.
 */
public final class Placeholders {

    private Placeholders() {
    }

    /**
     * {@code %u} and {@code %c} replaced in a topic filter; {@code null} when a value needed is missing or unsafe (see
     * above).
     */
    static String expand(String pattern, String username, String clientId) {
        return expand(pattern, true, username, clientId, Map.of(), true);
    }

    /** As {@link #expand(String, String, String)}, with {@code %{name}} replaced by the attribute {@code name}. */
    static String expand(String pattern, ClientIdentity id) {
        return expand(pattern, true, id.username(), id.clientId(), id.attributes(), true);
    }

    /**
     * {@code %u} and {@code %c} replaced in the Share Name of a {@code $share/} rule: as {@link #expand}, except that
     * a value may start with {@code $} (a Share Name is not a topic).
     */
    static String expandShareName(String pattern, ClientIdentity id) {
        return expand(pattern, true, id.username(), id.clientId(), id.attributes(), false);
    }

    /**
     * {@code %c} replaced by the client id ({@code %u} is not a placeholder here and stays as it is); {@code null}
     * when the pattern has {@code %c} and the client id is empty or unsafe. For values the broker builds from a
     * client id, such as the Response Information a 5.0 client uses as the base of its response topics.
     */
    public static String expandClientId(String pattern, String clientId) {
        return expand(pattern, false, null, clientId, Map.of(), true);
    }

    private static String expand(String pattern, boolean withUser, String username, String clientId,
            Map<String, String> attributes, boolean topic) {
        int at = pattern.indexOf('%');
        if (at < 0) {
            return pattern;
        }
        StringBuilder out = new StringBuilder(pattern.length() + 16);
        out.append(pattern, 0, at);
        int n = pattern.length();
        for (int i = at; i < n; i++) {
            char ch = pattern.charAt(i);
            char next = i + 1 < n ? pattern.charAt(i + 1) : 0;
            String value;
            int skip = 1;
            if (ch == '%' && next == 'c') {
                value = clientId;
            } else if (ch == '%' && next == 'u' && withUser) {
                value = username;
            } else if (ch == '%' && next == '{' && withUser && attributeEnd(pattern, i) > 0) {
                int end = attributeEnd(pattern, i);
                value = attributes.get(pattern.substring(i + 2, end));
                skip = end - i;
            } else {
                out.append(ch);
                continue;
            }
            if (!isSafeValue(value) || (topic && out.length() == 0 && value.charAt(0) == '$')) {
                return null;
            }
            out.append(value);
            i += skip;
        }
        return out.toString();
    }

    /**
     * For a {@code %} at {@code at} followed by <code>{name}</code> with a valid {@link #isAttributeName name}, the index
     * of the closing brace; -1 otherwise.
     */
    static int attributeEnd(String pattern, int at) {
        if (at + 2 >= pattern.length() || pattern.charAt(at) != '%' || pattern.charAt(at + 1) != '{') {
            return -1;
        }
        int end = pattern.indexOf('}', at + 2);
        return end > at + 2 && isAttributeName(pattern.substring(at + 2, end)) ? end : -1;
    }

    /** An attribute name of {@code %{name}}: ASCII letters, digits, {@code _ - . :}; 1 to 64 characters. */
    public static boolean isAttributeName(String name) {
        if (name.isEmpty() || name.length() > 64) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            boolean ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                    || ch == '_' || ch == '-' || ch == '.' || ch == ':';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** A value that can stand inside one topic level: not empty, no {@code /}, {@code +} or {@code #}. */
    static boolean isSafeValue(String v) {
        return v != null && !v.isEmpty() && v.indexOf('/') < 0 && v.indexOf('+') < 0 && v.indexOf('#') < 0;
    }
}
