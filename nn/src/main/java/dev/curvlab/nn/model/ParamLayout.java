package dev.curvlab.nn.model;

import dev.curvlab.core.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Named parameter blocks laid out in one flat vector. The order is the contract used everywhere
 * (model files, the CLI, rows and columns of every Hessian): blocks appear in the order added; a
 * block of shape {@code [r, c]} occupies {@code r * c} consecutive entries in row-major order. For
 * a {@link Sequential} model that is, per dense layer: {@code W [in, out]} row-major, then
 * {@code b [out]}.
 */
public final class ParamLayout {
    /** One named block: its shape and where it starts in the flat vector. */
    public record Block(String name, long[] shape, long offset) {
        /** Number of entries. */
        public long size() {
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            return n;
        }

        /** One past the last entry. */
        public long end() {
            return offset + size();
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape) + "@" + offset;
        }
    }

    private final List<Block> blocks;
    private final long size;

    private ParamLayout(List<Block> blocks) {
        this.blocks = Collections.unmodifiableList(blocks);
        this.size = blocks.isEmpty() ? 0 : blocks.get(blocks.size() - 1).end();
    }

    /** Builds a layout block by block. */
    public static final class Builder {
        private final List<Block> blocks = new ArrayList<>();
        private long offset;

        public Builder add(String name, long... shape) {
            Block b = new Block(name, shape.clone(), offset);
            blocks.add(b);
            offset = b.end();
            return this;
        }

        public ParamLayout build() {
            return new ParamLayout(new ArrayList<>(blocks));
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Total number of parameters N. */
    public long size() {
        return size;
    }

    public List<Block> blocks() {
        return blocks;
    }

    public Block block(int i) {
        return blocks.get(i);
    }

    /** The block with this name. */
    public Block block(String name) {
        for (Block b : blocks) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("no parameter block named '" + name + "'; blocks: " + blocks);
    }

    /** Block {@code i} of a flat parameter vector {@code theta: [N]}, reshaped to the block's shape (differentiable). */
    public Tensor slice(Tensor theta, int i) {
        Block b = blocks.get(i);
        return theta.slice(0, b.offset(), b.end()).reshape(b.shape());
    }

    /** The name of the block holding flat index {@code k} and the position inside it, e.g. {@code "layer1.W[3, 7]"}. */
    public String describe(long k) {
        for (Block b : blocks) {
            if (k >= b.offset() && k < b.end()) {
                long r = k - b.offset();
                long[] idx = new long[b.shape().length];
                for (int a = idx.length - 1; a >= 0; a--) {
                    idx[a] = r % b.shape()[a];
                    r /= b.shape()[a];
                }
                return b.name() + Arrays.toString(idx);
            }
        }
        throw new IndexOutOfBoundsException("parameter index " + k + " outside [0, " + size + ")");
    }

    @Override
    public String toString() {
        return "ParamLayout(N=" + size + ", " + blocks + ")";
    }
}
