use std::sync::{Arc, Mutex};

use super::JobInfo;

/// All jobs of a session, in submission order.
#[derive(Debug, Default)]
pub struct JobRegistry {
    jobs: Mutex<Vec<Arc<JobInfo>>>,
}

impl JobRegistry {
    /// Adds a job.
    pub fn add(&self, job: Arc<JobInfo>) {
        self.jobs.lock().expect("job registry poisoned").push(job);
    }
    /// Every job, oldest first.
    pub fn list(&self) -> Vec<Arc<JobInfo>> {
        self.jobs.lock().expect("job registry poisoned").clone()
    }
    /// The job with this id (or a unique prefix of it).
    pub fn get(&self, id: &str) -> Option<Arc<JobInfo>> {
        let jobs = self.jobs.lock().expect("job registry poisoned");
        let matches: Vec<_> = jobs.iter().filter(|j| j.id.starts_with(id)).collect();
        match matches.as_slice() {
            [one] => Some(Arc::clone(one)),
            _ => jobs.iter().find(|j| j.id == id).cloned(),
        }
    }
}
