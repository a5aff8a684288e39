using System.Runtime.CompilerServices;

// All imports are blittable LibraryImport signatures (design README 1.7).
[assembly: DisableRuntimeMarshalling]
