/** Prisma clients: a query extension per client (owned by the Prisma adapter work). */
export function withModelOperations<T extends object>(prisma: T, _models: Readonly<Record<string, string>>): T {
  return prisma;
}
