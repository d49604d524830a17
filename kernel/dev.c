// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * /dev/llamux: each open file is a session with its own KV cache. write()
 * a prompt to start a generation, read() the text as it is produced (end of
 * file ends the request), poll() for it, and set parameters or read
 * statistics with the ioctls of <uapi/linux/llamux.h>.
 */
#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "lxk.h"

static atomic_t open_sessions = ATOMIC_INIT(0);

static int dev_open(struct inode *inode, struct file *file)
{
	struct lxk_session *s;
	int ret;

	if (atomic_inc_return(&open_sessions) > lxk_param_max_sessions) {
		atomic_dec(&open_sessions);
		return -EBUSY;
	}
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s) {
		atomic_dec(&open_sessions);
		return -ENOMEM;
	}
	ret = lxk_session_init(s, NULL);
	if (ret) {
		kfree(s);
		atomic_dec(&open_sessions);
		return ret;
	}
	file->private_data = s;
	return nonseekable_open(inode, file);
}

static int dev_release(struct inode *inode, struct file *file)
{
	struct lxk_session *s = file->private_data;

	lxk_session_destroy(s);
	kfree(s);
	atomic_dec(&open_sessions);
	return 0;
}

static ssize_t dev_write(struct file *file, const char __user *buf,
			 size_t len, loff_t *ppos)
{
	struct lxk_session *s = file->private_data;
	char *prompt;
	int ret;

	if (len == 0)
		return -EINVAL;
	if (len > LLAMUX_PROMPT_MAX)
		return -E2BIG;
	prompt = memdup_user(buf, len);
	if (IS_ERR(prompt))
		return PTR_ERR(prompt);
	lxk_fpu_begin();
	ret = lx_utf8_valid(prompt, len) ? 0 : -EINVAL;
	lxk_fpu_end();
	if (!ret)
		ret = lxk_session_start(s, prompt, len);
	kfree(prompt);
	return ret ? ret : (ssize_t)len;
}

static ssize_t dev_read(struct file *file, char __user *buf, size_t len,
			loff_t *ppos)
{
	struct lxk_session *s = file->private_data;

	if (len == 0)
		return 0;
	return lxk_session_read(s, NULL, buf, len, file->f_flags & O_NONBLOCK,
				MAX_SCHEDULE_TIMEOUT);
}

static __poll_t dev_poll(struct file *file, poll_table *wait)
{
	struct lxk_session *s = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &s->wait, wait);
	if (s->started && lxk_session_readable(s))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (!lxk_session_running(s))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static long dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct lxk_session *s = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct llamux_model_desc desc;
	struct llamux_stats stats;
	struct llamux_params p;
	struct lxk_model *m;
	long ret = 0;

	switch (cmd) {
	case LLAMUX_IOC_SET_PARAMS:
		if (copy_from_user(&p, uarg, sizeof(p)))
			return -EFAULT;
		if (lxk_params_check(&p))
			return -EINVAL;
		mutex_lock(&s->lock);
		if (lxk_session_running(s))
			ret = -EBUSY;
		else
			s->params = p;
		mutex_unlock(&s->lock);
		return ret;
	case LLAMUX_IOC_GET_PARAMS:
		mutex_lock(&s->lock);
		p = s->params;
		mutex_unlock(&s->lock);
		return copy_to_user(uarg, &p, sizeof(p)) ? -EFAULT : 0;
	case LLAMUX_IOC_GET_STATS:
		mutex_lock(&s->lock);
		stats = s->stats;
		mutex_unlock(&s->lock);
		return copy_to_user(uarg, &stats, sizeof(stats)) ? -EFAULT : 0;
	case LLAMUX_IOC_GET_MODEL:
		m = lxk_model_get();
		if (!m)
			return -ENODEV;
		desc = m->desc;
		lxk_model_put(m);
		return copy_to_user(uarg, &desc, sizeof(desc)) ? -EFAULT : 0;
	case LLAMUX_IOC_CANCEL:
		lxk_session_cancel(s);
		return 0;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations dev_fops = {
	.owner = THIS_MODULE,
	.open = dev_open,
	.release = dev_release,
	.read = dev_read,
	.write = dev_write,
	.poll = dev_poll,
	.unlocked_ioctl = dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "llamux",
	.fops = &dev_fops,
	.mode = 0660,
};

int lxk_dev_init(void)
{
	return misc_register(&dev);
}

void lxk_dev_exit(void)
{
	misc_deregister(&dev);
}
