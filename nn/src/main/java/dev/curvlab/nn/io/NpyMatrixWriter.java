package dev.curvlab.nn.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Incremental, random-access writer for a large {@code [rows, cols]} float64 matrix stored as an
 * npy file ({@code <f8}, C order, format version 1.0 or 2.0), e.g. a Hessian computed block by
 * block with checkpoint/resume.
 *
 * <p>{@link #create(Path, long, long)} writes the header and pre-sizes the file to its final length
 * (sparse where the file system allows it); entries that were never written read back as 0.0.
 * {@link #writeRows(long, INDArray)} and {@link #writeBlock(long, long, INDArray)} then write
 * blocks at arbitrary positions, in any order, any number of times. {@link #openExisting(Path)}
 * reopens such a file (after a crash or restart) to continue writing.
 *
 * <p><b>No atomicity:</b> unlike {@link NpyFile#write(Path, INDArray)}, this class writes in
 * place. A file under construction is a valid npy file of the right shape at all times, but some
 * blocks may still be zero. Callers that need "complete or absent" semantics should write to a
 * temporary name (e.g. {@code hessian.npy.partial}), record which blocks are done, and rename the
 * file to its final name (ideally with {@code ATOMIC_MOVE}) after {@link #close()}.
 *
 * <p>Positional writes go through one {@link FileChannel}, so disjoint blocks may be written from
 * several threads concurrently. {@link #flush()} forces written data to disk.
 */
public final class NpyMatrixWriter implements Closeable {

    private final Path path;
    private final FileChannel channel;
    private final long rows;
    private final long cols;
    private final long dataOffset;

    private NpyMatrixWriter(Path path, FileChannel channel, long rows, long cols, long dataOffset) {
        this.path = path;
        this.channel = channel;
        this.rows = rows;
        this.cols = cols;
        this.dataOffset = dataOffset;
    }

    /**
     * Creates (or truncates and replaces; never through a symlink) {@code file} as a zero-filled {@code [rows, cols]} float64
     * npy file and opens it for writing.
     *
     * @throws IllegalArgumentException if {@code rows} or {@code cols} is negative or the byte size
     *     overflows
     */
    public static NpyMatrixWriter create(Path file, long rows, long cols) throws IOException {
        Objects.requireNonNull(file, "file");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("matrix shape must be non-negative, got [" + rows + ", " + cols + "]");
        }
        long dataBytes;
        try {
            dataBytes = Math.multiplyExact(Math.multiplyExact(rows, cols), 8L);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("matrix [" + rows + ", " + cols + "] is too large", e);
        }
        byte[] header = NpyHeader.encode("<f8", false, new long[] {rows, cols});
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        try {
            NpyFile.writeFully(ch, ByteBuffer.wrap(header), 0);
            if (dataBytes > 0) {
                // one byte at the very end sizes the file; the rest is a hole that reads as zeros
                NpyFile.writeFully(ch, ByteBuffer.wrap(new byte[1]), header.length + dataBytes - 1);
            }
            return new NpyMatrixWriter(file, ch, rows, cols, header.length);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Reopens a file previously created by {@link #create(Path, long, long)} (or any npy file with
     * dtype {@code <f8}, C order, rank 2 and exactly the size its header promises) to continue
     * writing. Existing contents are kept.
     *
     * @throws NoSuchFileException if the file does not exist
     * @throws NpyFormatException if it is not such a file
     */
    public static NpyMatrixWriter openExisting(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "npy file does not exist");
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            NpyHeader h = NpyHeader.read(ch, file);
            if (!h.descr().equals("<f8") || h.fortranOrder() || h.shape().length != 2) {
                throw new NpyFormatException(file, "cannot resume: expected a rank-2 '<f8' C-order matrix, found '"
                        + h.descr() + "', fortran_order=" + h.fortranOrder() + ", shape "
                        + NpyHeader.shapeString(h.shape()));
            }
            long r = h.shape()[0];
            long c = h.shape()[1];
            long expected = h.dataOffset() + r * c * 8;
            if (ch.size() != expected) {
                throw new NpyFormatException(file, "cannot resume: shape " + NpyHeader.shapeString(h.shape())
                        + " needs a file of " + expected + " bytes, but it has " + ch.size()
                        + (ch.size() < expected ? " (truncated)" : " (trailing bytes)"));
            }
            return new NpyMatrixWriter(file, ch, r, c, h.dataOffset());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** @return the file being written */
    public Path path() {
        return path;
    }

    /** @return number of matrix rows */
    public long rows() {
        return rows;
    }

    /** @return number of matrix columns */
    public long cols() {
        return cols;
    }

    /**
     * Writes full rows {@code [startRow, startRow + r)}.
     *
     * @param startRow first row to write, {@code 0 <= startRow} and {@code startRow + r <= rows()}
     * @param block {@code [r, cols()]} (or a rank-1 vector of length {@code cols()} for one row);
     *     any dtype (converted to float64), any order, views allowed
     */
    public void writeRows(long startRow, INDArray block) throws IOException {
        writeBlock(startRow, 0, block);
    }

    /**
     * Writes a sub-block whose top-left corner is at {@code (startRow, startCol)}; useful for
     * column blocks. A full-width block is written with one positional write, otherwise one write
     * per row.
     *
     * @param block {@code [r, c]} (or rank 1 of length {@code c} for one row), with
     *     {@code startRow + r <= rows()} and {@code startCol + c <= cols()}
     */
    public void writeBlock(long startRow, long startCol, INDArray block) throws IOException {
        Objects.requireNonNull(block, "block");
        if (!channel.isOpen()) {
            throw new IOException(path + ": NpyMatrixWriter is closed");
        }
        if (block.rank() != 1 && block.rank() != 2) {
            throw new IllegalArgumentException("block must have rank 1 or 2, got shape "
                    + NpyHeader.shapeString(block.shape()));
        }
        long r = block.rank() == 1 ? 1 : block.size(0);
        long c = block.rank() == 1 ? block.length() : block.size(1);
        if (startRow < 0 || startCol < 0 || startRow + r > rows || startCol + c > cols) {
            throw new IndexOutOfBoundsException(path + ": block of shape [" + r + ", " + c + "] at (" + startRow
                    + ", " + startCol + ") does not fit in the [" + rows + ", " + cols + "] matrix");
        }
        if (r == 0 || c == 0) {
            return;
        }
        INDArray d = block.dataType() == DataType.DOUBLE ? block : block.castTo(DataType.DOUBLE);
        if (c == cols && d.ordering() == 'c' && !d.isView() && d.offset() == 0 && java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN) {
            writeNative(dataOffset + startRow * cols * 8, d, r * c);
            return;
        }
        if (r * c > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("block of " + r * c + " elements is too large; write it in pieces");
        }
        double[] data = d.dup('c').data().asDouble();
        long pos = dataOffset + (startRow * cols + startCol) * 8;
        if (c == cols) {
            NpyFile.writeDoubles(channel, pos, data, 0, (int) (r * c));
        } else {
            for (int i = 0; i < r; i++) {
                NpyFile.writeDoubles(channel, pos + i * cols * 8, data, (int) (i * c), (int) c);
            }
        }
    }

    /**
     * Writes {@code n} doubles of a whole C-order float64 array straight from its native memory (no
     * Java copy), in chunks of at most 256 MB; the file's little-endian layout is the memory's.
     */
    private void writeNative(long pos, INDArray d, long n) throws IOException {
        long bytes = n * 8;
        long chunk = 256L << 20;
        for (long done = 0; done < bytes; done += chunk) {
            long len = Math.min(chunk, bytes - done);
            org.bytedeco.javacpp.BytePointer p = new org.bytedeco.javacpp.BytePointer(d.data().addressPointer());
            p.capacity(bytes).limit(done + len).position(done);
            java.nio.ByteBuffer buf = p.asBuffer();
            long at = pos + done;
            while (buf.hasRemaining()) {
                at += channel.write(buf, at);
            }
        }
    }

    /**
     * The file's matrix mapped into memory, as it is (all zeros for a file just created): writes to
     * the returned C-order float64 array go straight to the file (no copy), and the array stays valid
     * after {@link #close()}. Only for files below 2 GB (a Java mapping's limit); larger ones return
     * null.
     */
    public INDArray mapped() throws IOException {
        long end = dataOffset + rows * cols * 8;
        if (end > Integer.MAX_VALUE || java.nio.ByteOrder.nativeOrder() != java.nio.ByteOrder.LITTLE_ENDIAN) {
            return null;
        }
        java.nio.MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_WRITE, 0, end);
        return dev.curvlab.core.kernels.LargeMatrix.over(map, dataOffset, rows, cols);
    }

    /** Forces all data written so far to the storage device. */
    public void flush() throws IOException {
        channel.force(true);
    }

    /** Closes the file (without forcing it to disk: call {@link #flush()} first where durability matters). Idempotent. */
    @Override
    public void close() throws IOException {
        if (channel.isOpen()) {
            channel.close();
        }
    }
}
