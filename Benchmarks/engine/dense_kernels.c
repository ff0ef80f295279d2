// Dense-kernel microbenchmark behind the float32 oneDNN decision: OpenBLAS cblas_sgemm against a oneDNN
// f32 matmul on weights packed once (format_tag_any), at one layer's four dense shapes, per row count.
// build: gcc -O2 -fopenmp dense_kernels.c -o dense_kernels -ldnnl -lopenblas -I/usr/include/x86_64-linux-gnu/openblas-pthread
// run:   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE ./dense_kernels HIDDEN INTERMEDIATE THREADS
// prints per row count the best-of-5 ms for the four products with each library and their ratio.
// sgemm (OpenBLAS) vs oneDNN f32 matmul with weights packed once (format_tag_any).
#include <oneapi/dnnl/dnnl.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { fprintf(stderr, "%s: %d line %d\n", #x, s_, __LINE__); exit(1);} } while (0)
static double now(void){ struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9; }
static dnnl_engine_t eng; static dnnl_stream_t strm;
static void md(dnnl_memory_desc_t *d, long r, long c, dnnl_format_tag_t t){ dnnl_dims_t dims={r,c}; CK(dnnl_memory_desc_init_by_tag(d,2,dims,dnnl_f32,t)); }
static dnnl_primitive_desc_t mkpd(long m,long k,long n,dnnl_memory_desc_t *w,const char**impl){
  dnnl_memory_desc_t s,d; md(&s,m,k,dnnl_ab); md(&d,m,n,dnnl_ab);
  dnnl_matmul_desc_t op; CK(dnnl_matmul_desc_init(&op,&s,w,NULL,&d));
  dnnl_primitive_attr_t a; CK(dnnl_primitive_attr_create(&a)); CK(dnnl_primitive_attr_set_scratchpad_mode(a,dnnl_scratchpad_mode_user));
  dnnl_primitive_desc_t pd; CK(dnnl_primitive_desc_create(&pd,&op,a,eng,NULL)); dnnl_primitive_attr_destroy(a);
  if(impl) dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,impl);
  return pd;
}
typedef struct { long k,n; float *w; dnnl_memory_desc_t wd; dnnl_memory_t wm; } layer;
static void pack(layer *L){
  dnnl_memory_desc_t any; md(&any,L->k,L->n,dnnl_format_tag_any);
  const char*impl; dnnl_primitive_desc_t pd=mkpd(4096,L->k,L->n,&any,&impl);
  L->wd=*dnnl_primitive_desc_query_md(pd,dnnl_query_weights_md,0);
  dnnl_memory_desc_t any1; md(&any1,L->k,L->n,dnnl_format_tag_any);
  dnnl_primitive_desc_t pd1=mkpd(1,L->k,L->n,&any1,NULL);
  int same=dnnl_memory_desc_equal(&L->wd,dnnl_primitive_desc_query_md(pd1,dnnl_query_weights_md,0));
  dnnl_memory_desc_t any25; md(&any25,L->k,L->n,dnnl_format_tag_any);
  dnnl_primitive_desc_t pd25=mkpd(25,L->k,L->n,&any25,NULL);
  int same25=dnnl_memory_desc_equal(&L->wd,dnnl_primitive_desc_query_md(pd25,dnnl_query_weights_md,0));
  fprintf(stderr,"k%ld n%ld impl %s, layout same for m=1: %d m=25: %d, packed bytes %zu\n",L->k,L->n,impl,same,same25,dnnl_memory_desc_get_size(&L->wd));
  CK(dnnl_memory_create(&L->wm,&L->wd,eng,DNNL_MEMORY_ALLOCATE));
  dnnl_memory_desc_t p; md(&p,L->k,L->n,dnnl_ab); dnnl_memory_t pm; CK(dnnl_memory_create(&pm,&p,eng,L->w));
  dnnl_primitive_desc_t rpd; CK(dnnl_reorder_primitive_desc_create(&rpd,&p,eng,&L->wd,eng,NULL));
  dnnl_primitive_t r; CK(dnnl_primitive_create(&r,rpd)); dnnl_exec_arg_t args[2]={{DNNL_ARG_FROM,pm},{DNNL_ARG_TO,L->wm}};
  CK(dnnl_primitive_execute(r,strm,2,args)); CK(dnnl_stream_wait(strm));
}
static void *scratch; 
typedef struct { dnnl_primitive_t p; dnnl_memory_desc_t sd; } prim;
static prim mkprim(long m, layer *L){ dnnl_memory_desc_t w=L->wd; dnnl_primitive_desc_t pd=mkpd(m,L->k,L->n,&w,NULL); prim P; CK(dnnl_primitive_create(&P.p,pd)); P.sd=*dnnl_primitive_desc_query_md(pd,dnnl_query_scratchpad_md,0); return P; }
static void run_dnnl(prim *P, layer *L, long m, float *a, float *c){
  dnnl_memory_desc_t s,d; md(&s,m,L->k,dnnl_ab); md(&d,m,L->n,dnnl_ab);
  dnnl_memory_t sm,dm,spm; CK(dnnl_memory_create(&sm,&s,eng,a)); CK(dnnl_memory_create(&dm,&d,eng,c)); CK(dnnl_memory_create(&spm,&P->sd,eng,scratch));
  dnnl_exec_arg_t args[4]={{DNNL_ARG_SRC,sm},{DNNL_ARG_WEIGHTS,L->wm},{DNNL_ARG_DST,dm},{DNNL_ARG_SCRATCHPAD,spm}};
  CK(dnnl_primitive_execute(P->p,strm,4,args)); CK(dnnl_stream_wait(strm));
  dnnl_memory_destroy(sm); dnnl_memory_destroy(dm); dnnl_memory_destroy(spm);
}
int main(int argc,char**argv){
  int hidden=atoi(argv[1]), inter=atoi(argv[2]), threads=atoi(argv[3]);
  openblas_set_num_threads(threads); omp_set_num_threads(threads);
  CK(dnnl_engine_create(&eng,dnnl_cpu,0)); CK(dnnl_stream_create(&strm,eng,dnnl_stream_default_flags));
  scratch=aligned_alloc(64,256<<20);
  layer Ls[4]={{hidden,3*hidden},{hidden,hidden},{hidden,inter},{inter,hidden}};
  for(int i=0;i<4;i++){ Ls[i].w=malloc(sizeof(float)*Ls[i].k*Ls[i].n); for(long j=0;j<Ls[i].k*Ls[i].n;j++) Ls[i].w[j]=(float)((j*7919)%1000)/1000.f-0.5f; pack(&Ls[i]); }
  long rowsList[]={1,2,4,8,12,16,20,24,25,32,64,128,256,512,5000}; int nr=sizeof rowsList/sizeof *rowsList;
  float *a=malloc(sizeof(float)*5000*inter), *c=malloc(sizeof(float)*5000*inter), *c2=malloc(sizeof(float)*5000*inter);
  for(long j=0;j<5000L*inter;j++) a[j]=(float)((j*31)%997)/997.f-0.5f;
  printf("hidden %d inter %d threads %d\n rows   sgemm_ms  dnnl_ms  sgemm/dnnl  maxreldiff\n",hidden,inter,threads);
  for(int ri=0;ri<nr;ri++){ long m=rowsList[ri];
    prim P[4]; for(int i=0;i<4;i++) P[i]=mkprim(m,&Ls[i]);
    double target = 0.15; int reps=1; double bs=1e9, bd=1e9; double maxdiff=0;
    // warm + calibrate
    for(int i=0;i<4;i++){ run_dnnl(&P[i],&Ls[i],m,a,c); cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,m,Ls[i].n,Ls[i].k,1,a,Ls[i].k,Ls[i].w,Ls[i].n,0,c2,Ls[i].n);
      for(long j=0;j<m*Ls[i].n;j++){ double d=c[j]-c2[j]; if(d<0)d=-d; double r=d/(1e-3+(c2[j]<0?-c2[j]:c2[j])); if(r>maxdiff)maxdiff=r; } }
    double t0=now(); for(int i=0;i<4;i++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,m,Ls[i].n,Ls[i].k,1,a,Ls[i].k,Ls[i].w,Ls[i].n,0,c2,Ls[i].n);
    double one=now()-t0; reps= (int)(target/ (one>1e-6?one:1e-6)); if(reps<1)reps=1; if(reps>2000) reps=2000;
    for(int round=0;round<5;round++){
      t0=now(); for(int r=0;r<reps;r++) for(int i=0;i<4;i++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,m,Ls[i].n,Ls[i].k,1,a,Ls[i].k,Ls[i].w,Ls[i].n,0,c2,Ls[i].n);
      double s=(now()-t0)/reps; if(s<bs)bs=s;
      t0=now(); for(int r=0;r<reps;r++) for(int i=0;i<4;i++) run_dnnl(&P[i],&Ls[i],m,a,c);
      double d=(now()-t0)/reps; if(d<bd)bd=d;
    }
    printf("%5ld  %8.3f  %8.3f  %6.2fx  %.1e\n",m,bs*1e3,bd*1e3,bs/bd,maxdiff);
    for(int i=0;i<4;i++) dnnl_primitive_destroy(P[i].p);
  }
}
