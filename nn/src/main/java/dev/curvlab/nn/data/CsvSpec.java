package dev.curvlab.nn.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * How to read a numeric CSV file with {@link Datasets#csv(java.nio.file.Path, CsvSpec)}.
 *
 * <p>Column indices are 0-based; negative indices count from the end ({@code -1} is the last
 * column). All columns that are not target columns become features, in file order.
 *
 * @param targetColumns the target columns (at least one, distinct after resolving negatives)
 * @param header whether the first non-blank line is a header to skip
 * @param classIndices if true there must be exactly one target column, holding class indices
 *     {@code 0..C-1}, and targets become {@code [n]}; if false targets are real-valued {@code [n, k]}
 * @param delimiter the cell separator, e.g. {@code ','}, {@code ';'} or {@code '\t'}
 */
public record CsvSpec(int[] targetColumns, boolean header, boolean classIndices, char delimiter) {

    /** Validates and defensively copies. */
    public CsvSpec {
        Objects.requireNonNull(targetColumns, "targetColumns");
        if (targetColumns.length == 0) {
            throw new IllegalArgumentException("at least one target column is required");
        }
        if (classIndices && targetColumns.length != 1) {
            throw new IllegalArgumentException("class-index targets need exactly one target column, got "
                    + Arrays.toString(targetColumns));
        }
        if (delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
            throw new IllegalArgumentException("invalid delimiter " + (int) delimiter);
        }
        targetColumns = targetColumns.clone();
    }

    /** Real-valued targets {@code [n, k]} from the given columns; comma-separated, no header. */
    public static CsvSpec regression(int... targetColumns) {
        return new CsvSpec(targetColumns, false, false, ',');
    }

    /** Class-index targets {@code [n]} from one column; comma-separated, no header. */
    public static CsvSpec classification(int targetColumn) {
        return new CsvSpec(new int[] {targetColumn}, false, true, ',');
    }

    /** @return a copy with the given header flag */
    public CsvSpec withHeader(boolean hasHeader) {
        return new CsvSpec(targetColumns, hasHeader, classIndices, delimiter);
    }

    /** @return a copy with the given delimiter */
    public CsvSpec withDelimiter(char sep) {
        return new CsvSpec(targetColumns, header, classIndices, sep);
    }

    /** @return a copy of the target columns */
    @Override
    public int[] targetColumns() {
        return targetColumns.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CsvSpec s && Arrays.equals(targetColumns, s.targetColumns) && header == s.header
                && classIndices == s.classIndices && delimiter == s.delimiter;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(targetColumns), header, classIndices, delimiter);
    }

    @Override
    public String toString() {
        return "CsvSpec[targetColumns=" + Arrays.toString(targetColumns) + ", header=" + header
                + ", classIndices=" + classIndices + ", delimiter='" + delimiter + "']";
    }
}
