package io.starling.cluster.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection of the node link: the handshake (dialer: HELLO, then AUTH after checking the acceptor's proof;
 * acceptor: CHALLENGE, then checks the dialer's proof), then DATA and ACK frames for its {@link PeerLink}. Anything
 * out of place (a frame before the handshake ends, a wrong proof, a malformed frame, an unknown type) closes the
 * connection with a log line naming the reason.
 */
final class LinkHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(LinkHandler.class);

    private enum State { AWAIT_HELLO, AWAIT_CHALLENGE, AWAIT_AUTH, UP, CLOSED }

    private final NodeLink link;
    private final FrameDecoder decoder;
    /** The peer dialed, {@code null} on an accepted connection until HELLO names it. */
    private final String dialed;
    private State state;
    private PeerLink peer;
    private String peerName;
    private long peerIncarnation;
    private final byte[] nonce = new byte[Frames.NONCE];
    private byte[] peerNonce;
    private ScheduledFuture<?> timeout;
    private String closeReason;

    private LinkHandler(NodeLink link, FrameDecoder decoder, String dialed) {
        this.link = link;
        this.decoder = decoder;
        this.dialed = dialed;
        this.state = dialed == null ? State.AWAIT_HELLO : State.AWAIT_CHALLENGE;
        link.random.nextBytes(nonce);
    }

    /** Sets up a link connection: dialed to {@code peer}, or accepted ({@code peer} {@code null}). */
    static void install(Channel ch, NodeLink link, String peer) {
        FrameDecoder decoder = new FrameDecoder();
        io.netty.handler.ssl.SslContext tls = peer == null ? link.serverTls : link.clientTls;
        if (tls != null) {
            ch.pipeline().addLast("ssl", tls.newHandler(ch.alloc()));
        }
        ch.pipeline().addLast("frames", decoder).addLast("link", new LinkHandler(link, decoder, peer));
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> refuse(ctx, "no handshake within "
                + link.settings.handshakeTimeoutMillis() + " ms"), link.settings.handshakeTimeoutMillis(),
                TimeUnit.MILLISECONDS);
        if (link.isClosed()) {
            ctx.close();
            return;
        }
        if (dialed != null) {
            ByteBuf b = NodeLink.frame(ctx.channel(), Frames.HELLO, 64);
            b.writeByte(Frames.VERSION);
            Frames.writeString(b, link.nodeName);
            b.writeBytes(nonce);
            b.writeLong(link.incarnation);
            Frames.end(b, 0);
            ctx.writeAndFlush(b);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            if (state == State.CLOSED) {
                return;
            }
            byte type = frame.readByte();
            switch (state) {
                case AWAIT_HELLO -> onHello(ctx, type, frame);
                case AWAIT_CHALLENGE -> onChallenge(ctx, type, frame);
                case AWAIT_AUTH -> onAuth(ctx, type, frame);
                case UP -> onFrame(ctx, type, frame);
                default -> throw new IllegalStateException(state.name());
            }
        } catch (RuntimeException e) {
            refuse(ctx, "malformed frame (" + e.getMessage() + ")");
        } finally {
            frame.release();
        }
    }

    private void onHello(ChannelHandlerContext ctx, byte type, ByteBuf in) {
        if (type != Frames.HELLO) {
            refuse(ctx, "expected HELLO, got frame type " + type);
            return;
        }
        int version = in.readUnsignedByte();
        if (version != Frames.VERSION) {
            refuse(ctx, "unsupported link version " + version);
            return;
        }
        String name = Frames.readString(in);
        if (!Handshake.validName(name) || name.equals(link.nodeName)) {
            refuse(ctx, "invalid node name");
            return;
        }
        peerNonce = new byte[Frames.NONCE];
        in.readBytes(peerNonce);
        peerIncarnation = in.readLong();
        peerName = name;
        PeerLink p = link.known(name); // not made for a stranger: only once it proves the secret
        ByteBuf b = NodeLink.frame(ctx.channel(), Frames.CHALLENGE, 128);
        Frames.writeString(b, link.nodeName);
        b.writeBytes(nonce);
        b.writeLong(link.incarnation);
        b.writeLong(p == null ? 0 : p.appliedFrom(peerIncarnation));
        b.writeBytes(Handshake.acceptorProof(link.secret, peerNonce, nonce, link.nodeName, name));
        Frames.end(b, 0);
        ctx.writeAndFlush(b);
        state = State.AWAIT_AUTH;
    }

    private void onChallenge(ChannelHandlerContext ctx, byte type, ByteBuf in) {
        if (type != Frames.CHALLENGE) {
            refuse(ctx, "expected CHALLENGE, got frame type " + type);
            return;
        }
        String name = Frames.readString(in);
        peerNonce = new byte[Frames.NONCE];
        in.readBytes(peerNonce);
        long inc = in.readLong();
        long appliedFromMe = in.readLong();
        byte[] proof = new byte[Frames.MAC];
        in.readBytes(proof);
        if (!name.equals(dialed)) {
            refuse(ctx, "answered as another node");
            return;
        }
        if (!Handshake.same(proof, Handshake.acceptorProof(link.secret, nonce, peerNonce, name, link.nodeName))) {
            refuse(ctx, "peer cannot prove it holds the cluster secret");
            return;
        }
        peerName = name;
        PeerLink p = link.peer(name);
        p.peerIncarnation(inc);
        ByteBuf b = NodeLink.frame(ctx.channel(), Frames.AUTH, 64);
        b.writeBytes(Handshake.dialerProof(link.secret, peerNonce, nonce, link.nodeName, name));
        b.writeLong(p.applied);
        Frames.end(b, 0);
        ctx.write(b);
        up(ctx, p, appliedFromMe, true);
    }

    private void onAuth(ChannelHandlerContext ctx, byte type, ByteBuf in) {
        if (type != Frames.AUTH) {
            refuse(ctx, "expected AUTH, got frame type " + type);
            return;
        }
        byte[] proof = new byte[Frames.MAC];
        in.readBytes(proof);
        long appliedFromMe = in.readLong();
        if (!Handshake.same(proof, Handshake.dialerProof(link.secret, nonce, peerNonce, peerName, link.nodeName))) {
            refuse(ctx, "peer cannot prove it holds the cluster secret");
            return;
        }
        PeerLink p = link.peer(peerName);
        p.peerIncarnation(peerIncarnation);
        up(ctx, p, appliedFromMe, false);
    }

    private void up(ChannelHandlerContext ctx, PeerLink p, long appliedFromMe, boolean dialedUp) {
        timeout.cancel(false);
        state = State.UP;
        peer = p;
        decoder.authenticated(link.settings.maxFrameBytes() + link.settings.maxMessageBytes() + 64 * 1024);
        p.attach(ctx.channel(), appliedFromMe, dialedUp);
        ctx.flush();
    }

    private void onFrame(ChannelHandlerContext ctx, byte type, ByteBuf in) {
        switch (type) {
            case Frames.DATA -> peer.onData(ctx.channel(), in);
            case Frames.ACK -> {
                peer.onAck(in.readLong());
                peer.schedulePump();
            }
            default -> refuse(ctx, "unknown frame type " + type);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (state == State.UP && ctx.channel().isWritable()) {
            peer.schedulePump();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        refuse(ctx, cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (peer != null) {
            peer.detached(ctx.channel(), closeReason == null ? "connection closed" : closeReason);
        }
        state = State.CLOSED;
        ctx.fireChannelInactive();
    }

    /** Closes the connection for {@code reason}, with a log line. */
    private void refuse(ChannelHandlerContext ctx, String reason) {
        if (state == State.CLOSED) {
            return;
        }
        boolean handshake = state != State.UP;
        state = State.CLOSED;
        closeReason = reason;
        if (handshake) {
            link.refused.increment();
            LOG.warn("Node link {} {}: refused, {}", dialed != null ? "to '" + dialed + "' at" : "from",
                    ctx.channel().remoteAddress(), reason);
        }
        if (peer != null) {
            peer.detached(ctx.channel(), reason);
        }
        ctx.close();
    }
}
