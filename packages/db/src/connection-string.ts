/** Quotes an identifier for SQL. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Splits Prisma's `?schema=` off a URL: node-postgres does not know it. */
export function splitSchema(connectionString: string): { url: string; schema: string | undefined } {
  const url = new URL(connectionString);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return { url: url.toString(), schema: schema === '' ? undefined : schema };
}
