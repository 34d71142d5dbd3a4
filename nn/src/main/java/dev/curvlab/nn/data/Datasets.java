package dev.curvlab.nn.data;

import dev.curvlab.nn.io.NpyFile;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Loaders that build {@link Dataset}s: the bundled Iris data, numeric CSV files and npy pairs.
 * All arrays are float64.
 */
public final class Datasets {

    /** Classpath resource holding Iris; it ships inside the deeplearning4j-core jar. */
    static final String IRIS_RESOURCE = "iris.dat";

    private Datasets() {
    }

    /**
     * Fisher's Iris data: 150 examples, 4 features (sepal length, sepal width, petal length, petal
     * width, in cm) and class indices 0 (setosa), 1 (versicolor), 2 (virginica), 50 of each, in the
     * order of the resource. Read from the classpath resource {@code iris.dat} of deeplearning4j-core
     * (headerless CSV lines such as {@code 5.1,3.5,1.4,0.2,0}); no network access.
     *
     * @return {@code x: [150, 4]}, {@code y: [150]} class indices
     * @throws UncheckedIOException if the resource is missing or malformed (a packaging error)
     */
    public static Dataset iris() {
        ClassLoader cl = Datasets.class.getClassLoader();
        InputStream in = cl == null ? null : cl.getResourceAsStream(IRIS_RESOURCE);
        if (in == null && Thread.currentThread().getContextClassLoader() != null) {
            in = Thread.currentThread().getContextClassLoader().getResourceAsStream(IRIS_RESOURCE);
        }
        String source = "classpath:" + IRIS_RESOURCE;
        if (in == null) {
            throw new UncheckedIOException(new DatasetFormatException(source
                    + ": resource not found (it ships inside the deeplearning4j-core jar)"));
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            Dataset ds = parse(r, source, CsvSpec.classification(4));
            if (ds.n() != 150 || ds.d() != 4 || ds.numClasses() != 3) {
                throw new DatasetFormatException(source + ": expected 150 rows, 4 features and 3 classes, got " + ds);
            }
            return ds;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Classpath resource holding the 8x8 digits (UCI optical digits, CC BY 4.0; see digits.NOTICE beside it). */
    static final String DIGITS_RESOURCE = "dev/curvlab/nn/data/digits.csv.gz";

    /**
     * The 8x8 handwritten digits (UCI "Optical Recognition of Handwritten Digits", test set, as
     * shipped by scikit-learn; CC BY 4.0): 1,797 grey images, pixels scaled from counts 0..16 to
     * {@code [0, 1]}, classes 0..9. Read from the resource {@code digits.csv.gz} shipped in this
     * jar; no network access.
     *
     * @return {@code x: [1797, 1, 8, 8]}, {@code y: [1797]} class indices (the digit)
     * @throws UncheckedIOException if the resource is missing or malformed (a packaging error)
     */
    public static Dataset digits() {
        String source = "classpath:" + DIGITS_RESOURCE;
        InputStream raw = Datasets.class.getClassLoader().getResourceAsStream(DIGITS_RESOURCE);
        if (raw == null) {
            throw new UncheckedIOException(new DatasetFormatException(source + ": resource not found"));
        }
        int n = 1797;
        double[] x = new double[n * 64];
        double[] y = new double[n];
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new java.util.zip.GZIPInputStream(raw), StandardCharsets.US_ASCII))) {
            int row = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                String[] cells = line.split(",");
                if (row >= n || cells.length != 65) {
                    throw new DatasetFormatException(source + ": line " + (row + 1) + " is not 64 pixels and a label");
                }
                for (int k = 0; k < 64; k++) {
                    x[row * 64 + k] = Integer.parseInt(cells[k].trim()) / 16.0;
                }
                y[row++] = Integer.parseInt(cells[64].trim());
            }
            if (row != n) {
                throw new DatasetFormatException(source + ": expected " + n + " images, got " + row);
            }
        } catch (IOException | NumberFormatException e) {
            throw new UncheckedIOException(e instanceof IOException io ? io : new IOException(source + ": " + e.getMessage(), e));
        }
        return new Dataset(Nd4j.create(x, new long[] {n, 1, 8, 8}, DataType.DOUBLE), Nd4j.create(y, new long[] {n}, DataType.DOUBLE));
    }

    /**
     * Loads a comma-separated numeric file with one real-valued target column: targets are
     * {@code [n, 1]}. For class indices, several target columns or other delimiters use
     * {@link #csv(Path, CsvSpec)}.
     *
     * @param file the CSV file (UTF-8)
     * @param targetColumn 0-based target column; negative counts from the end ({@code -1} = last)
     * @param header whether the first non-blank line is a header to skip
     */
    public static Dataset csv(Path file, int targetColumn, boolean header) throws IOException {
        return csv(file, CsvSpec.regression(targetColumn).withHeader(header));
    }

    /**
     * Loads a numeric delimited text file.
     *
     * <p>Format: UTF-8 text, one example per line, cells separated by {@code spec.delimiter()}.
     * Cells are trimmed and may be wrapped in double quotes; each must parse as a finite number
     * ({@link Double#parseDouble}). Blank lines and, after the optional header, lines starting with
     * {@code #} are skipped. Every data line must have the same number of cells as the first one.
     * Target columns (see {@link CsvSpec}) become {@code y}, the remaining columns {@code x} in file
     * order.
     *
     * @throws DatasetFormatException naming line and column (1-based, plus the 0-based index) of a
     *     non-numeric, empty or non-finite cell, a ragged row, an invalid class index, a target
     *     column that does not exist, or a file without data rows
     */
    public static Dataset csv(Path file, CsvSpec spec) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(spec, "spec");
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(r, file.toString(), spec);
        }
    }

    /**
     * Loads features and targets from two npy files (see {@link NpyFile#read(Path)} for the
     * supported dtypes).
     *
     * @param xFile features, rank 2 {@code [n, d]}, or images {@code [n, C, H, W]}
     * @param yFile targets, {@code [n, k]} or class indices {@code [n]}
     * @throws DatasetFormatException if ranks are wrong, the row counts differ or values are
     *     invalid (non-finite, bad class indices)
     */
    public static Dataset npy(Path xFile, Path yFile) throws IOException {
        INDArray x = NpyFile.read(xFile);
        INDArray y = NpyFile.read(yFile);
        if (x.rank() != 2 && x.rank() != 4) {
            throw new DatasetFormatException(xFile + ": features must have rank 2 [n, d] (or images [n, C, H, W]), got shape "
                    + Arrays.toString(x.shape()));
        }
        if (y.rank() != 1 && y.rank() != 2) {
            throw new DatasetFormatException(yFile + ": targets must be [n, k] or class indices [n], got shape "
                    + Arrays.toString(y.shape()));
        }
        if (x.size(0) != y.size(0)) {
            throw new DatasetFormatException("row counts differ: " + xFile + " has shape " + Arrays.toString(x.shape())
                    + " but " + yFile + " has shape " + Arrays.toString(y.shape()));
        }
        try {
            return new Dataset(x, y);
        } catch (IllegalArgumentException e) {
            throw new DatasetFormatException(xFile + " / " + yFile + ": " + e.getMessage(), e);
        }
    }

    // ---- CSV parsing ----------------------------------------------------------------------------

    static Dataset parse(BufferedReader in, String source, CsvSpec spec) throws IOException {
        char sep = spec.delimiter();
        boolean headerPending = spec.header();
        int cols = -1;
        int firstLine = -1;
        boolean[] isTarget = null;
        int[] targets = null;
        int k = spec.targetColumns().length;
        Growable xs = new Growable();
        Growable ys = new Growable();
        int n = 0;
        String line;
        int lineNo = 0;
        while ((line = in.readLine()) != null) {
            lineNo++;
            if (lineNo == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            String t = line.strip();
            if (t.isEmpty()) {
                continue;
            }
            if (headerPending) {
                headerPending = false;
                continue;
            }
            if (t.startsWith("#")) {
                continue;
            }
            List<String> cells = split(line, sep);
            if (cols < 0) {
                cols = cells.size();
                firstLine = lineNo;
                targets = resolveTargets(spec.targetColumns(), cols, source, lineNo);
                isTarget = new boolean[cols];
                for (int c : targets) {
                    isTarget[c] = true;
                }
            } else if (cells.size() != cols) {
                throw new DatasetFormatException(source + ": line " + lineNo + ": ragged row with " + cells.size()
                        + " columns, expected " + cols + " as on line " + firstLine);
            }
            double[] row = new double[cols];
            for (int c = 0; c < cols; c++) {
                row[c] = number(cells.get(c), source, lineNo, c);
            }
            for (int c = 0; c < cols; c++) {
                if (!isTarget[c]) {
                    xs.add(row[c]);
                }
            }
            for (int c : targets) {
                double v = row[c];
                if (spec.classIndices() && (v < 0 || v != Math.rint(v))) {
                    throw new DatasetFormatException(source + ": " + where(lineNo, c)
                            + ": class index must be a non-negative integer, got '" + cells.get(c) + "'");
                }
                ys.add(v);
            }
            n++;
        }
        if (n == 0) {
            throw new DatasetFormatException(source + ": no data rows" + (spec.header() ? " after the header" : ""));
        }
        int d = cols - k;
        INDArray x = Nd4j.create(xs.toArray(), new long[] {n, d}, DataType.DOUBLE);
        INDArray y = spec.classIndices()
                ? Nd4j.create(ys.toArray(), new long[] {n}, DataType.DOUBLE)
                : Nd4j.create(ys.toArray(), new long[] {n, k}, DataType.DOUBLE);
        return new Dataset(x, y);
    }

    private static int[] resolveTargets(int[] spec, int cols, String source, int lineNo) throws DatasetFormatException {
        int[] out = new int[spec.length];
        boolean[] seen = new boolean[cols];
        for (int i = 0; i < spec.length; i++) {
            int c = spec[i] < 0 ? cols + spec[i] : spec[i];
            if (c < 0 || c >= cols) {
                throw new DatasetFormatException(source + ": target column " + spec[i] + " does not exist: line "
                        + lineNo + " has " + cols + " columns");
            }
            if (seen[c]) {
                throw new DatasetFormatException(source + ": target column " + spec[i] + " is listed twice");
            }
            seen[c] = true;
            out[i] = c;
        }
        if (spec.length >= cols) {
            throw new DatasetFormatException(source + ": no feature columns left: line " + lineNo + " has " + cols
                    + " columns and " + spec.length + " are targets");
        }
        return out;
    }

    private static List<String> split(String line, char sep) {
        List<String> cells = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= line.length(); i++) {
            if (i == line.length() || line.charAt(i) == sep) {
                String cell = line.substring(start, i).strip();
                if (cell.length() >= 2 && cell.startsWith("\"") && cell.endsWith("\"")) {
                    cell = cell.substring(1, cell.length() - 1).strip();
                }
                cells.add(cell);
                start = i + 1;
            }
        }
        return cells;
    }

    private static double number(String cell, String source, int lineNo, int col) throws DatasetFormatException {
        if (cell.isEmpty()) {
            throw new DatasetFormatException(source + ": " + where(lineNo, col) + ": empty cell");
        }
        double v;
        try {
            v = Double.parseDouble(cell);
        } catch (NumberFormatException e) {
            throw new DatasetFormatException(source + ": " + where(lineNo, col) + ": non-numeric value '" + cell + "'");
        }
        if (!Double.isFinite(v)) {
            throw new DatasetFormatException(source + ": " + where(lineNo, col) + ": non-finite value '" + cell + "'");
        }
        return v;
    }

    private static String where(int lineNo, int col) {
        return "line " + lineNo + ", column " + (col + 1) + " (index " + col + ")";
    }

    /** Minimal growable double array. */
    private static final class Growable {
        private double[] a = new double[1024];
        private int size;

        void add(double v) {
            if (size == a.length) {
                if (a.length >= Integer.MAX_VALUE - 8) {
                    throw new IllegalStateException("CSV file too large for one Java array");
                }
                a = Arrays.copyOf(a, (int) Math.min(Integer.MAX_VALUE - 8L, 2L * a.length));
            }
            a[size++] = v;
        }

        double[] toArray() {
            return Arrays.copyOf(a, size);
        }
    }
}
