export { Complaint, COMPLAINT_STATUSES, COMPLAINANT_KINDS } from './complaint.entity';
export type { ComplaintStatus, ComplainantKind } from './complaint.entity';
export { submitComplaint, noticeForComplaint, complaintWindow } from './submit-complaint';
export type { ComplaintCredential, ComplaintDeps } from './submit-complaint';
export { decideComplaint } from './decide-complaint';
export { sourceComplaintUrl, complaintDeadline } from './complaint-links';
export { complaintFigures, complaintQueue } from './complaints.queries';
